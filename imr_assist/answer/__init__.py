"""Stage 4: answers with verified citations, extractive or written by an LLM."""
