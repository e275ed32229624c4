"""Presentation shared by every page and document: labels and dates (display), the
languages, what templates see (templating), share cards and links, charts and PDFs. It
imports no feature."""
