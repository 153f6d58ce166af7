"""The PDF documents the site hands out (share certificates, letters of admission and
cancellation, the capital overview), all made one way with fpdf2.

fpdf2 is pure Python and needs no system libraries. Its built-in Helvetica with the
Windows-1252 encoding covers Dutch and English text and the euro sign, so no font file
ships with the site. A document is a title, then paragraphs and tables, top to bottom.

fpdf2 (with fontTools under it) costs a process some 20 MB: it is imported when the first
document is made, so a web worker that never makes one goes without it.
"""

from collections.abc import Iterable, Sequence

from flask import Response

FONT = "helvetica"


class Document:
    """An A4 document built top to bottom; `response()` hands it to the browser."""

    def __init__(self, title: str, *, author: str = ""):
        from fpdf import FPDF

        self._pdf = FPDF(format="A4")
        self._pdf.core_fonts_encoding = "windows-1252"
        self._pdf.set_title(title)
        self._pdf.set_author(author)
        self._pdf.set_margins(20, 20, 20)
        self._pdf.add_page()
        self._pdf.set_font(FONT, style="B", size=18)
        self._pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        self._pdf.ln(4)

    def heading(self, text: str) -> None:
        self._pdf.ln(2)
        self._pdf.set_font(FONT, style="B", size=13)
        self._pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str) -> None:
        self._pdf.set_font(FONT, size=11)
        self._pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        self._pdf.ln(2)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence]) -> None:
        """A table with a bold header row; None is an empty cell."""
        from fpdf.fonts import FontFace

        self._pdf.set_font(FONT, size=10)
        with self._pdf.table(headings_style=FontFace(emphasis="BOLD")) as table:
            for values in [headers, *rows]:
                row = table.row()
                for value in values:
                    row.cell("" if value is None else str(value))
        self._pdf.ln(4)

    def page_break(self) -> None:
        self._pdf.add_page()

    def bytes(self) -> bytes:
        return bytes(self._pdf.output())

    def response(self, filename: str) -> Response:
        """The document as a download named `filename`."""
        return Response(
            self.bytes(),
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
