"""The e-mail channel: parsing inbound mail now; the IMAP poller and SMTP sender build on it."""
