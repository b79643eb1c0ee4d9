"""mini-apiserver: the HTTP layer composing storage, machinery, crd and admission."""
