"""Messaging: the outbox and its worker, the SmsGateway port and its adapters (Vonage, fake), signatures."""
