language-choose = Choose your language / Выберите язык:
language-changed = Done: I speak English now.
language-name-ru = Русский
language-name-en = English
