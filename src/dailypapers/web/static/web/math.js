// Progressive enhancement: typeset $...$ and $$...$$ with KaTeX (vendored). Without
// JavaScript, or if KaTeX fails, the TeX source stays as readable text.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.renderMathInElement) return;
  document.querySelectorAll(".math").forEach(function (element) {
    window.renderMathInElement(element, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "$", right: "$", display: false },
      ],
      throwOnError: false,
    });
  });
});
