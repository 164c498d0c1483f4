// MeCab's C API, from Debian's libmecab-dev.
#include <mecab.h>
