"""Local OCR for text proofing: rapidocr's PP-OCR models, shipped inside its wheel, run on the CPU."""
