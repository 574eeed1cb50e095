"""Internal Q&A for town-hall secretariats: tokens, ranking, error reports and usage figures."""
