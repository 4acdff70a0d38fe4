"""Signed webhooks (the Standard Webhooks format): where a receiver may be, the message a delivery sends, when a
failed one is tried again, and the loop every worker process runs to send due deliveries from the store's outbox.
"""
