"""Building and opening the Chroma index of letter chunks, and the embedders it uses."""
