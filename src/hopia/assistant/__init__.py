"""Axis 3, the generative assistant: LLM backends behind one interface (OpenAI-compatible
servers, an embedded GGUF runtime), knowledge collections with hybrid retrieval and cited
answers, task templates, and the PHI guard in front of any backend not marked local.

It sits over the clinical-data axis (``hopia.data``): the PHI guard calls the pseudonymiser, the
grounding check the NLP, the cohort task the cohort DSL, through their public functions."""
