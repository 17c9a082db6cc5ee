# Encoder side of the binding (included by _codec.pyx); filled by the encoder work.
