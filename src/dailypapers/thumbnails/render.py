"""The first page of a PDF as a small WebP: the top of the page, where the title, the
authors and often the first figure are (what Hugging Face's paper cards show).

pypdfium2 (PDFium, Apache-2.0/BSD) renders; Pillow encodes. PyMuPDF would do too but is
AGPL. A PDF that PDFium cannot open raises ThumbnailError with the reason.
"""

import io

WIDTH, HEIGHT = 400, 250  # pixels: twice the 200x125 box the listings show (sharp on HiDPI)
QUALITY = 80  # WebP: ~10-30 kB a page


class ThumbnailError(Exception):
    """The PDF could not be rendered; the message says why, for a person."""


def first_page_webp(pdf_bytes):
    """(WebP bytes, width, height) of the top of the first page of `pdf_bytes`."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(pdf_bytes)
    except pdfium.PdfiumError as exc:
        raise ThumbnailError(f"not a PDF that can be read ({exc})") from None
    try:
        if len(document) == 0:
            raise ThumbnailError("the PDF has no pages")
        page = document[0]
        page_width, page_height = page.get_size()
        scale = WIDTH / page_width
        # Only the top of the page: crop what lies below HEIGHT pixels before rendering.
        below = max(page_height - HEIGHT / scale, 0)
        image = page.render(scale=scale, crop=(0, below, 0, 0), may_draw_forms=False).to_pil()
    finally:
        document.close()
    image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "WEBP", quality=QUALITY, method=4)
    return out.getvalue(), image.width, image.height
