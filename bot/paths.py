"""Where the project's data lives, so that no module guesses paths on its own."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
KNOWLEDGE_DIR = DATA_DIR / "knowledge"
PROCEDURES_DIR = KNOWLEDGE_DIR / "procedures"
MODELS_DIR = PROJECT_ROOT / "models"
VAR_DIR = PROJECT_ROOT / "var"
