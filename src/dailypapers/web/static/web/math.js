// Progressive enhancement: typeset $...$ and $$...$$ with KaTeX (vendored). Without
// JavaScript, or if KaTeX fails, the TeX source stays as readable text.
//
// An element holding a formula that could take the tab down is left as plain TeX: nested
// deeper than MAX_NESTING (braces, \left..\right, \begin..\end), longer than MAX_LENGTH,
// or defining commands (\def, \newcommand...: their expansion can nest without limit).
// The server refuses such comments (community/markdown.py, the same count); this guards
// what was stored before, and titles and abstracts.
(function () {
  var MAX_NESTING = 24;
  var MAX_LENGTH = 2000;
  var SPAN = /\$\$([\s\S]*?)\$\$|\$([^$]*)\$/g;
  var GROUP = /\\(?:left|begin)(?![a-zA-Z])|\\(?:right|end)(?![a-zA-Z])|\\[\s\S]|[{}]/g;
  var DEFINES = /\\(?:[gex]?def|let|futurelet|(?:re|provide)?newcommand|newenvironment)(?![a-zA-Z])/;

  function nesting(tex) {
    var depth = 0, deepest = 0, match;
    GROUP.lastIndex = 0;
    while ((match = GROUP.exec(tex)) !== null) {
      var token = match[0];
      if (token === "{" || token === "\\left" || token === "\\begin") {
        depth += 1;
        if (depth > deepest) deepest = depth;
      } else if (token === "}" || token === "\\right" || token === "\\end") {
        depth = Math.max(depth - 1, 0);
      }
    }
    return deepest;
  }

  function safe(text) {
    var match;
    SPAN.lastIndex = 0;
    while ((match = SPAN.exec(text)) !== null) {
      var tex = match[1] !== undefined ? match[1] : match[2];
      if (tex.length > MAX_LENGTH || DEFINES.test(tex) || nesting(tex) > MAX_NESTING) {
        return false;
      }
    }
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.renderMathInElement) return;
    document.querySelectorAll(".math").forEach(function (element) {
      if (!safe(element.textContent)) {
        element.classList.add("math-untypeset");
        element.title = "This formula is too large or too deeply nested to typeset.";
        return;
      }
      window.renderMathInElement(element, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "$", right: "$", display: false },
        ],
        throwOnError: false,
      });
    });
  });
})();
