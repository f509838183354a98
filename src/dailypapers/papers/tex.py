"""TeX in titles and abstracts as plain text, for the places KaTeX never reaches.

arXiv titles and abstracts carry TeX: `$\\mathcal{O}(n^2)$`, `$\\mathbf{\\texttt{D}}$ual`,
`\\textit{...}`, `\\%`. The paper page typesets it in the browser (KaTeX, web/math.js);
listings, search results, feeds, page titles and the digest mail show text, so there a
light rendering makes it readable: `O(n²)`, `Dual`, `...`, `%`. Common macros become their
Unicode characters, font and style commands keep their argument, `\\frac{a}{b}` is `a/b`,
super- and subscripts use Unicode digits where they exist. It is not a TeX engine: an
unknown command in a formula loses its backslash (outside one it is left as written, as a
backslash there may be no TeX at all), and the text stays readable. pylatexenc 2.11's
LatexNodes2Text, tried on the same titles, dropped nested font commands' argument
("$\\mathbf{\\texttt{D}}$ual" read "ual"), kept "n^2" and raised IndexError on `\\href{url}{text}`.
"""

import re
import unicodedata

SYMBOLS = {
    # Greek
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    # relations, operators, arrows
    "times": "×", "cdot": "·", "div": "÷", "pm": "±", "mp": "∓", "leq": "≤", "le": "≤",
    "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "sim": "~", "simeq": "≃",
    "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫", "in": "∈", "notin": "∉",
    "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩", "oplus": "⊕", "otimes": "⊗",
    "circ": "∘", "ast": "*", "star": "⋆", "to": "→", "rightarrow": "→", "leftarrow": "←",
    "Rightarrow": "⇒", "Leftarrow": "⇐", "leftrightarrow": "↔", "mapsto": "↦",
    "uparrow": "↑", "downarrow": "↓", "infty": "∞", "partial": "∂", "nabla": "∇",
    "forall": "∀", "exists": "∃", "neg": "¬", "wedge": "∧", "land": "∧", "vee": "∨",
    "lor": "∨", "emptyset": "∅", "varnothing": "∅", "ell": "ℓ", "hbar": "ℏ", "sum": "Σ",
    "prod": "Π", "int": "∫", "sqrt": "√", "langle": "⟨", "rangle": "⟩", "lfloor": "⌊",
    "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "mid": "|", "vert": "|", "Vert": "‖",
    "dagger": "†", "prime": "′", "degree": "°", "checkmark": "✓",
    "ldots": "…", "dots": "…", "cdots": "⋯", "dotsc": "…", "dotsb": "⋯",
    # functions keep their name
    "log": "log", "ln": "ln", "exp": "exp", "sin": "sin", "cos": "cos", "tan": "tan",
    "max": "max", "min": "min", "arg": "arg", "argmax": "argmax", "argmin": "argmin",
    "lim": "lim", "sup": "sup", "inf": "inf", "det": "det", "Pr": "Pr", "ker": "ker",
    # spacing, and what is only layout
    "quad": " ", "qquad": " ", "left": "", "right": "", "big": "", "Big": "", "bigg": "",
    "Bigg": "", "displaystyle": "", "textstyle": "", "limits": "", "nolimits": "",
    "noindent": "", "newline": " ", "clearpage": "",
    # text-mode words, and font switches that only style what follows
    "LaTeX": "LaTeX", "TeX": "TeX", "textasciitilde": "~", "textbackslash": "\\",
    "eg": "e.g.", "ie": "i.e.", "etal": "et al.", "deg": "°", "degC": "°C",
    "em": "", "it": "", "bf": "", "rm": "", "sc": "", "sl": "", "tt": "", "sf": "",
}  # fmt: skip
FUNCTIONS = {"log", "ln", "exp", "sin", "cos", "tan", "max", "min", "arg", "argmax", "argmin",
             "lim", "sup", "inf", "det", "Pr", "ker"}  # fmt: skip
DOUBLE_STRUCK = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "P": "ℙ", "F": "𝔽",
                 "E": "𝔼", "H": "ℍ", "1": "𝟙"}  # fmt: skip
SUPERSCRIPTS = str.maketrans("0123456789+-=()niT*", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ*")
SUBSCRIPTS = str.maketrans("0123456789+-=()aeijkmnoprstx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₘₙₒₚᵣₛₜₓ")
# Commands whose braced argument is the text to show: fonts, styles, boxes.
KEEP_ARGUMENT = re.compile(
    r"\\(?:math(?:bf|rm|it|sf|tt|cal|frak|scr|bfit|normal)|text(?:bf|rm|it|sf|tt|sc|up|md|"
    r"normal)?|emph|bm|boldsymbol|operatorname\*?|mbox|hbox|underline|overline|widetilde|"
    r"widehat|tilde|hat|bar|vec|dot|ddot|textsuperscript|uline|url|small|large|Large|"
    r"footnotesize)(?![A-Za-z])"
)
MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
ESCAPED = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", " ": " "}
TEXT_QUOTES = (("``", "“"), ("''", "”"))


def tex_plain(text):
    """`text` with its TeX rendered as plain text; text without TeX comes back as it is."""
    if not text or ("\\" not in text and "$" not in text and "``" not in text):
        return text
    text = MATH.sub(_math_span, text)
    return _tidy(_commands(text, math=False))


def tex_words(text):
    """`text` as the keyword index takes it: tex_plain's words, with its Unicode super- and
    subscripts and double-struck letters as plain ones, so `$PA^3$` is found as "PA3"."""
    plain = tex_plain(text)
    return plain if plain is text else unicodedata.normalize("NFKC", plain)


def _math_span(match):
    tex = next(group for group in match.groups() if group is not None)
    if _is_money(tex):
        return match.group(0)
    return _commands(_scripts(tex), math=True)


def _is_money(tex):
    """In "costs $5 and $10" the first dollar opens no formula."""
    return tex[:1].isdigit() and " " in tex.strip() and not re.search(r"[\\^_{}=]", tex)


def _scripts(tex):
    """x^2 -> x², x_{ij} -> xᵢⱼ; what has no Unicode form stays x^(k+1), x_{max} -> x_max."""

    def script(match):
        mark, braced, single = match.group(1), match.group(2), match.group(3)
        body = braced if braced is not None else single
        table = SUPERSCRIPTS if mark == "^" else SUBSCRIPTS
        plain = _commands(_scripts(body), math=True)
        if plain and all(char in _keys(table) for char in plain):
            return plain.translate(table)
        if mark == "^" and plain == "*":
            return "*"
        if len(plain) == 1:
            return mark + plain
        return f"{mark}({plain})" if mark == "^" else f"_{plain}"

    return re.sub(r"([\^_])\s*(?:{((?:[^{}]|{[^{}]*})*)}|(\\[A-Za-z]+|[^\s{}\\]))", script, tex)


def _keys(table):
    return {chr(code) for code in table}


# Commands of two arguments, as "what to show" from them: \href{url}{text} -> "text (url)".
TWO_ARGUMENTS = re.compile(
    r"\\(href|hyperlink|textcolor|color)\s*{([^{}]*)}\s*{((?:[^{}]|{[^{}]*})*)}"
)
FOOTNOTE = re.compile(r"\\footnote\s*{((?:[^{}]|{[^{}]*})*)}")


def _two_arguments(match):
    name, first, second = match.groups()
    return f"{second} ({first})" if name == "href" and first != second else second


def _commands(tex, *, math):
    tex = TWO_ARGUMENTS.sub(_two_arguments, tex)
    tex = FOOTNOTE.sub(r" (\1)", tex)
    tex = re.sub(r"\\frac\s*{((?:[^{}]|{[^{}]*})*)}\s*{((?:[^{}]|{[^{}]*})*)}", _fraction, tex)
    tex = re.sub(r"\\mathbb\s*{\s*([A-Za-z1])\s*}", lambda m: DOUBLE_STRUCK.get(m[1], m[1]), tex)
    tex = re.sub(r"\\mathbb\s*([A-Za-z1])\b", lambda m: DOUBLE_STRUCK.get(m[1], m[1]), tex)
    tex = KEEP_ARGUMENT.sub("", tex)  # "\\textbf{P}olicy" -> "{P}olicy" -> "Policy"
    tex = re.sub(r"\\([%&_#${} ])", lambda m: ESCAPED[m[1]], tex)
    tex = re.sub(r"\\[,;:!> ]", " " if not math else "", tex)
    tex = re.sub(r"\\\\", " ", tex)
    tex = re.sub(r"\\([A-Za-z]+)", lambda match: _command(match, math=math), tex)
    if math:
        tex = tex.replace("{", "").replace("}", "").replace("~", " ")
    else:
        tex = re.sub(r"(?<!\\){([^{}]*)}", r"\1", tex)
        for tex_quote, quote in TEXT_QUOTES:
            tex = tex.replace(tex_quote, quote)
    return tex


def _fraction(match):
    top, bottom = (_commands(part, math=True).strip() for part in match.groups())
    top = top if len(top) <= 1 or top.isalnum() else f"({top})"
    bottom = bottom if len(bottom) <= 1 or bottom.isalnum() else f"({bottom})"
    return f"{top}/{bottom}"


def _command(match, *, math):
    name = match.group(1)
    if name in FUNCTIONS and match.start() and match.string[match.start() - 1].isalnum():
        return f" {name}"  # "n\\log n" reads "n log n", as TeX sets it
    if name in SYMBOLS:
        return SYMBOLS[name]
    if KEEP_ARGUMENT.fullmatch(f"\\{name}"):
        return ""  # a font command without braces: "\\mathcal O"
    if math:
        return name  # unknown in a formula: its name reads better than a backslash
    return match.group(0)  # outside one it may be no TeX at all: "C:\\Users", "back\\slash"


def _tidy(text):
    return re.sub(r"[ \t]{2,}", " ", text)
