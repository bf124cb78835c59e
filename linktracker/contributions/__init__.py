"""Story contributions: content employees suggest, which marketers turn into campaigns."""
