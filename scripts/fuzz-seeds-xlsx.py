#!/usr/bin/env python3
"""Writes hostile XLSX seeds (issue 13.1) into the fuzz corpora of `spreadsheet` and
`matrix_files`: a cell at XFD1048576, a declared dimension to the far corner, a shared-strings
part declaring 4,000,000,000 strings, XML nested 100,000 deep, a part that inflates over
1000x, a part whose declared sizes lie, and an ordinary workbook. Each seed starts with the
target's knob byte (`1`: XLSX for matrix_files; odd: sheet "Plan" for spreadsheet)."""
import io
import os
import struct
import sys
import zipfile

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def workbook(sheet: str, shared: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_rels/.rels", f'<Relationships><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="Plan" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{MAIN}"><sheetData>{sheet}</sheetData></worksheet>')
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


def lie(data: bytes, size: int) -> bytes:
    data = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = data.find(sig)
        while i >= 0:
            data[i + off:i + off + 4] = struct.pack("<I", size)
            i = data.find(sig, i + 4)
    return bytes(data)


def seeds() -> dict[str, bytes]:
    ordinary = '<row r="1"><c r="A1" t="inlineStr"><is><t>CATEGORÍAS</t></is></c><c r="B1" t="s"><v>0</v></c></row>'
    bomb = workbook('<row r="1"><c r="A1"><v>1</v></c></row>' + " " * (8 << 20))
    return {
        "ordinary": workbook(ordinary, f'<sst xmlns="{MAIN}" uniqueCount="1"><si><t>PUNTAJE</t></si></sst>'),
        "far-cell": workbook('<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
        "far-dimension": workbook('<dimension ref="A1:XFD1048576"/><row r="1"><c r="A1"><v>1</v></c></row>'),
        "shared-count": workbook('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', f'<sst xmlns="{MAIN}" count="4000000000" uniqueCount="4000000000"><si><t>a</t></si></sst>'),
        "deep-nesting": workbook("<x>" * 100_000 + "</x>" * 100_000),
        "ratio-bomb": bomb,
        "lying-sizes": lie(bomb, 100),
    }


def main() -> None:
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus")
    for target, knob in (("spreadsheet", b"\x01"), ("matrix_files", b"\x01")):
        folder = os.path.join(root, target)
        os.makedirs(folder, exist_ok=True)
        for name, data in seeds().items():
            with open(os.path.join(folder, f"seed-{name}.xlsx"), "wb") as f:
                f.write(knob + data)
    print(f"seeds written under {os.path.normpath(root)}", file=sys.stderr)


if __name__ == "__main__":
    main()
