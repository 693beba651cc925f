"""Inference servers as local processes on 127.0.0.1, for the integration tests, the benchmarks
and by hand: llama.cpp's `llama-server` (`servers.llama`) and vLLM's OpenAI server
(`servers.vllm`), both on one `LoopbackServer` base (`servers.loopback`). Nothing in the library
imports them: the HTTP engine talks to any server by URL."""
