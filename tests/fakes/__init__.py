"""Fakes of the outside world for in-process tests and benchmarks: an aiogram session that
answers like Telegram, update factories, and an SMTP server that catches e-mails."""
