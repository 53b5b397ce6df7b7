"""The bundled corpus: five documents on green Belt and Road development and their manifest (package data)."""
