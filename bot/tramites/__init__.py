"""Trámites: applications with a number and a status history, payments, and the work behind each service.

Shared by the action server (in conversation) and the background worker (retries after registry errors).
"""
