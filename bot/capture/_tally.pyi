from typing import Any

def add(
    keys_a: Any,
    keys_b: Any,
    counts: Any,
    weights: Any,
    used: Any,
    log2: int,
    a: Any,
    b: Any,
    w: Any,
    n: Any,
    bits: bool,
    /,
) -> tuple[int, bytes]: ...
