"""The PDF helper: Dutch text, the euro sign and tables come out as text a reader can find."""

import io

import pypdf

from cooperative.pdf import Document


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_a_document_holds_its_title_paragraphs_and_table():
    document = Document("Aandeelbewijs", author="MeentCoop")
    document.heading("Café de Meent")
    document.paragraph("Bedrag: € 25,00 – betaald op 6 december 2026.")
    document.table(["Nummer", "Bedrag"], [[1, "€ 25,00"], [2, None]])

    data = document.bytes()

    assert data.startswith(b"%PDF")
    text = text_of(data)
    for expected in ("Aandeelbewijs", "Café de Meent", "€ 25,00 – betaald", "Nummer", "Bedrag"):
        assert expected in text
    assert pypdf.PdfReader(io.BytesIO(data)).metadata.title == "Aandeelbewijs"


def test_the_response_is_a_named_pdf_download(app):
    with app.test_request_context():
        response = Document("Overzicht").response("kapitaal-2026.pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="kapitaal-2026.pdf"'
    assert text_of(response.get_data()).startswith("Overzicht")
