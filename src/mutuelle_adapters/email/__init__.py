"""E-mail adapter: French templates, the transactional outbox, its relay and the SMTP / folder transports."""
