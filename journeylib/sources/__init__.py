"""What produces raw client folders: synthetic clients, importers of tool exports, and the scaffold of ``journey init``."""
