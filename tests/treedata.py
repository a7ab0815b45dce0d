"""The contents of the unit tests' temp HOME tree, shared by the fixture that builds it and the tests that
check it."""

# Fixed ages, so tests about "newer than" and "older than" never depend on how fast the tree was written.
DAY = 86400.0
BIG_LOG_LINES = 60_000

PDF_BYTES = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 256 >>\nstream\n"
    + bytes(range(256))
    + b"\nendstream\nendobj\n%%EOF\n"
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(200))
BINARY_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56 + bytes(range(256)) * 4
