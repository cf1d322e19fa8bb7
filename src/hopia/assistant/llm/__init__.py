"""LLM backends behind one interface (:class:`hopia.assistant.llm.base.ChatBackend`): any
OpenAI-compatible server by base URL, or the embedded llama.cpp runtime over a GGUF file."""
