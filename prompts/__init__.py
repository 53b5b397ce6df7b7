"""Versioned prompt templates (package data), read by silkqa.service.answering.generative.prompts."""
