"""Signed documents: PAdES PDFs and signed-QR images, their storage, delivery and verification."""
