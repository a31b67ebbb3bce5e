"""Mail: who gets what (selection), how it reads (rendering), signed links (tokens), and
delivery through an outbox and SMTP. No web routes here."""
