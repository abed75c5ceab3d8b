"""mutuelle_core: the pure domain of collective complementary health and provident insurance."""
