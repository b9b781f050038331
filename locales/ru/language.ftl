language-choose = Выберите язык / Choose your language:
language-changed = Готово: теперь я говорю по-русски.
language-name-ru = Русский
language-name-en = English
