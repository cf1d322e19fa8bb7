"""Knowledge collections: reading documents with their structure, passages that follow the
headings, a persistent incremental index, hybrid retrieval (BM25 + dense, fused by reciprocal
rank). See docs/assistant/knowledge.md."""
