/* The token tables of an article on the ASCII path, in one pass in C.

   bot.matching.text.ascii_tokens is the reference: this finds the same tokens (runs of ASCII letters,
   digits and underscores that start with a letter or digit, joined through inner apostrophes, and
   dotted abbreviations such as U.S.) and, in the same pass, what bot.matching.document.Document builds
   from them: each token's key (from the surface -> key cache, or the given function for a surface not
   in it yet; with lower_keys, a plain word met first is its own lower case: plain_key) and the token
   indices of each key (a tuple). tests/test_matching_tokens.py checks it against the reference on
   generated text.

   Text off the ASCII path (a character beyond ASCII that is not one of the given separators) gives
   None, for the general path to take; it is found as the scan goes, not in a pass of its own.

   Short ASCII surfaces are remembered from one text to the next in a table of their characters (Known),
   so that a word met before costs one probe of that table: no new string, no dict lookup (which would
   read the cached string to compare it, a cache miss in a large cache). The table belongs to one cache
   dict (and the fill that fills it: bot.matching.text.KEYS and key_of); a scan given another cache
   empties it first. Article text comes from outside: the table's hash starts from Python's per-process
   hash secret, a lookup gives up after MAX_PROBES slots (the word then takes the plain way: a new string
   and a dict lookup), and the table never grows past KNOWN_MAX_SIZE slots, half full at most. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline int
is_alnum(Py_UCS4 c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static inline int
is_alpha(Py_UCS4 c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
is_word(Py_UCS4 c)
{
    return is_alnum(c) || c == '_';
}

/* The apostrophes that join a word on the ASCII path: ' ’ ‘ ′ (not ʼ, a letter). */
static inline int
is_apostrophe(Py_UCS4 c)
{
    return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x2032;
}

/* A surface's length and characters, zero-padded: two compare as three words, with no call to memcmp. */
#define INLINE 23
typedef union {
    struct {
        unsigned char length;
        char chars[INLINE];
    } s;
    uint64_t words[3];
} Chars;

/* One surface remembered: its characters inline, so that a probe reads one cache line. */
typedef struct {
    Py_uhash_t hash;
    PyObject *surface; /* NULL: an empty slot; else owned, as is key */
    PyObject *key;
    Py_ssize_t group; /* this text's group of tokens of this surface, if stamp is this text's */
    uint64_t stamp;
    Chars text;
} Known;
_Static_assert(sizeof(Known) == 64, "a slot is one cache line");

#define KNOWN_FIRST 4096
#define KNOWN_LIMIT 30000     /* surfaces remembered before the table is emptied (at the start of a text) */
#define KNOWN_MAX_SIZE 65536  /* slots at most: a text met when full adds no more surfaces */
#define MAX_PROBES 32
static Known *known;
static size_t known_mask, known_used;
static PyObject *known_cache; /* the cache the table was filled from (a strong reference), or NULL */
static Py_uhash_t salt;       /* the hash's starting value, from Python's hash secret (set at import) */
static uint64_t stamps;
static int busy; /* a scan is running (fill, Python code, may let another thread in): the next one waits
                    for nothing and just does without the table */

/* A token found: its start, surface and key (owned: made into three lists at the end), and its group. */
typedef struct {
    PyObject *start, *surface, *key;
    Py_ssize_t group;
} Token;

/* The tokens of one surface (of one token, for a surface the table does not take): their key (borrowed
   from the tokens') and how many. At the end a key's groups go into by_key's one tuple for it. */
typedef struct {
    PyObject *key;
    Py_ssize_t size;
} Group;

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
    PyObject *text, *cache, *fill, *separators;
    PyObject *by_key;
    Token *tokens;
    Py_ssize_t count, capacity;
    Group *group;
    Py_ssize_t groups, group_capacity;
    int remember;   /* this scan owns the table */
    int lower_keys; /* a plain word's key is its lower case (see plain_key) */
    uint64_t stamp;
} Scan;

/* The slot of these characters, or the empty slot where they would go; NULL past MAX_PROBES slots. */
static Known *
probe(Py_uhash_t hash, const Chars *text)
{
    size_t i = (size_t)(hash ^ (hash >> 32)) & known_mask;
    for (int probes = 0; probes < MAX_PROBES; probes++) {
        Known *slot = &known[i];
        if (slot->surface == NULL
            || (slot->hash == hash && slot->text.words[0] == text->words[0]
                && slot->text.words[1] == text->words[1] && slot->text.words[2] == text->words[2]))
            return slot;
        i = (i + 1) & known_mask;
    }
    return NULL;
}

/* Empties the table. It is detached first: what releasing its strings may run finds no table. */
static void
forget_all(void)
{
    Known *old = known;
    size_t size = old == NULL ? 0 : known_mask + 1;
    PyObject *cache = known_cache;
    known = NULL;
    known_mask = known_used = 0;
    known_cache = NULL;
    for (size_t i = 0; i < size; i++) {
        Py_XDECREF(old[i].surface);
        Py_XDECREF(old[i].key);
    }
    PyMem_Free(old);
    Py_XDECREF(cache);
}

/* A table twice the size (or the first one), the entries moved over; -1 with an exception set. */
static int
grow(void)
{
    size_t old_size = known == NULL ? 0 : known_mask + 1;
    size_t size = old_size ? old_size * 2 : KNOWN_FIRST;
    Known *old = known;
    Known *table = PyMem_Calloc(size, sizeof(Known));
    if (table == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    known = table;
    known_mask = size - 1;
    for (size_t i = 0; i < old_size; i++) {
        if (old[i].surface == NULL)
            continue;
        Known *slot = probe(old[i].hash, &old[i].text);
        if (slot != NULL) {
            *slot = old[i];
        }
        else { /* a run of colliding words: this one is dropped */
            Py_DECREF(old[i].surface);
            Py_DECREF(old[i].key);
            known_used--;
        }
    }
    PyMem_Free(old);
    return 0;
}

/* The key of a surface, from the cache or from fill: a new reference, or NULL with an exception set.
   Keys must be exact str: releasing one then runs no Python code. */
static PyObject *
key_of(Scan *s, PyObject *surface)
{
    PyObject *key = PyDict_GetItemWithError(s->cache, surface);
    if (key != NULL)
        Py_INCREF(key);
    else if (PyErr_Occurred() || (key = PyObject_CallOneArg(s->fill, surface)) == NULL)
        return NULL;
    if (!PyUnicode_CheckExact(key)) {
        PyErr_Format(PyExc_TypeError, "the key of %R is not a str", surface);
        Py_DECREF(key);
        return NULL;
    }
    return key;
}

/* array (of *capacity items of item bytes, used of them taken) with room for one more: itself, or grown to
   twice the size (256 items at first) with what it held kept; NULL with an exception set, array then as
   it was. */
static void *
room(void *array, Py_ssize_t used, Py_ssize_t *capacity, size_t item)
{
    if (used < *capacity)
        return array;
    Py_ssize_t more = *capacity ? *capacity * 2 : 256;
    void *grown = PyMem_Realloc(array, (size_t)more * item);
    if (grown == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    *capacity = more;
    return grown;
}

/* A new group of tokens for key; -1 with an exception set. */
static Py_ssize_t
new_group(Scan *s, PyObject *key)
{
    Group *group = room(s->group, s->groups, &s->group_capacity, sizeof(Group));
    if (group == NULL)
        return -1;
    s->group = group;
    s->group[s->groups] = (Group){key, 0};
    return s->groups++;
}

/* Token indices and starts as int objects, made once: every text's tokens and characters count from 0. */
#define SMALL_INDICES 16384
static PyObject *small_indices[SMALL_INDICES];

static PyObject *
index_object(Py_ssize_t i)
{
    if (i >= SMALL_INDICES)
        return PyLong_FromSsize_t(i);
    if (small_indices[i] == NULL && (small_indices[i] = PyLong_FromSsize_t(i)) == NULL)
        return NULL;
    return Py_NewRef(small_indices[i]);
}

static int
append(Scan *s, Py_ssize_t start, PyObject *surface, PyObject *key, Py_ssize_t group)
{
    Token *tokens = room(s->tokens, s->count, &s->capacity, sizeof(Token));
    if (tokens == NULL)
        return -1;
    s->tokens = tokens;
    PyObject *start_obj = index_object(start);
    if (start_obj == NULL)
        return -1;
    s->group[group].size++;
    s->tokens[s->count++] = (Token){start_obj, Py_NewRef(surface), Py_NewRef(key), group};
    return 0;
}

/* The column of the tokens found at this offset in a Token (their starts, surfaces or keys), as a new list
   that takes their references; NULL with an exception set. */
static PyObject *
column(Scan *s, size_t offset)
{
    PyObject *list = PyList_New(s->count);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < s->count; i++) {
        PyObject **field = (PyObject **)((char *)&s->tokens[i] + offset);
        PyList_SET_ITEM(list, i, *field);
        *field = NULL;
    }
    return list;
}

/* A token the table does not take (long, or with an apostrophe beyond ASCII, or the table is busy). */
static int
emit_plain(Scan *s, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *surface = PyUnicode_Substring(s->text, start, end);
    if (surface == NULL)
        return -1;
    PyObject *key = key_of(s, surface);
    Py_ssize_t group = key == NULL ? -1 : new_group(s, key); /* the key is kept alive by the token's entry */
    int failed = group < 0 || append(s, start, surface, key, group) < 0;
    Py_XDECREF(key);
    Py_DECREF(surface);
    return failed ? -1 : 0;
}

/* The key of a plain word met first, without calling fill: its lower case, interned. A plain word is ASCII
   letters, digits and underscores, and does not end in s: bot.matching.text.normalise has nothing else to
   fold in it (no accents, dots, apostrophes, nor a plural: its plural rules all start from a final s), so
   its key is its case fold, which for ASCII is its lower case. tests/test_matching_tokens.py checks it
   against normalise. A new reference, or NULL with an exception set. */
static PyObject *
plain_key(const Chars *text)
{
    Py_ssize_t n = text->s.length;
    PyObject *key = PyUnicode_New(n, 127);
    if (key == NULL)
        return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(key);
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = text->s.chars[i];
        out[i] = (Py_UCS1)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    PyUnicode_InternInPlace(&key);
    return key;
}

/* Appends the token [start, end) to the tables; 0 on success, -1 with an exception set. */
static int
emit(Scan *s, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t length = end - start;
    if (!s->remember || length > INLINE)
        return emit_plain(s, start, end);
    Chars text = {0};
    text.s.length = (unsigned char)length;
    Py_uhash_t hash = salt; /* FNV-1a from a secret start */
    int plain = 1;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(s->kind, s->data, start + i);
        if (c >= 128)
            return emit_plain(s, start, end);
        text.s.chars[i] = (char)c;
        hash = (hash ^ c) * 1099511628211ULL;
        plain &= is_word(c);
    }
    Known *slot = probe(hash, &text);
    if (slot == NULL)
        return emit_plain(s, start, end);
    if (slot->surface == NULL) {
        if ((known_used + 1) * 2 > known_mask + 1) { /* it would be over half full: grow, or add no more */
            if (known_mask + 1 >= KNOWN_MAX_SIZE)
                return emit_plain(s, start, end);
            if (grow() < 0) {
                PyErr_Clear();
                return emit_plain(s, start, end);
            }
            if ((slot = probe(hash, &text)) == NULL)
                return emit_plain(s, start, end);
        }
        PyObject *surface = PyUnicode_Substring(s->text, start, end);
        if (surface == NULL)
            return -1;
        char last = text.s.chars[length - 1];
        PyObject *key = s->lower_keys && plain && last != 's' && last != 'S'
                            ? plain_key(&text)
                            : key_of(s, surface); /* Python code may run: this scan still owns the table */
        if (key == NULL) {
            Py_DECREF(surface);
            return -1;
        }
        slot->hash = hash;
        slot->surface = surface;
        slot->key = key;
        slot->group = 0;
        slot->stamp = 0;
        slot->text = text;
        known_used++;
    }
    if (slot->stamp != s->stamp) {
        Py_ssize_t group = new_group(s, slot->key);
        if (group < 0)
            return -1;
        slot->group = group;
        slot->stamp = s->stamp;
    }
    return append(s, start, slot->surface, slot->key, slot->group);
}

#define PRESIZE_LIMIT 8192 /* keys by_key is sized for at most (a text of one word repeated has one key) */

/* Fills by_key: each key's token indices as one tuple, made at its size and filled in token order (so
   sorted). 0, or -1 with an exception set. Tuples made once at their size cost a fraction of lists grown
   token by token, and a key's tuple is made when its first group is met, with one dict lookup a group:
   until the tokens fill it, its first item holds the number of that group, which other groups of the key
   (another surface, "The" and "the"; or tokens off the table, one group each) find it by. A key of several
   groups then gets a tuple at their total size in its place: one more lookup, for a few keys a text. */
static int
fill_by_key(Scan *s)
{
    Py_ssize_t presize = s->groups < PRESIZE_LIMIT ? s->groups : PRESIZE_LIMIT;
#if PY_VERSION_HEX < 0x030D0000
    s->by_key = _PyDict_NewPresized(presize); /* sized once: no growing by rehashing, key by key */
#else
    (void)presize;
    s->by_key = PyDict_New();
#endif
    if (s->by_key == NULL)
        return -1;
    size_t n = (size_t)(s->groups ? s->groups : 1);
    PyObject **tuples = PyMem_Calloc(n, sizeof(PyObject *)); /* a key's first group's: by_key's, borrowed */
    Py_ssize_t *first = PyMem_Calloc(n, sizeof(Py_ssize_t)); /* each group's key's first group */
    Py_ssize_t *total = PyMem_Calloc(n, sizeof(Py_ssize_t)); /* a first group's: its key's tokens */
    Py_ssize_t *filled = PyMem_Calloc(n, sizeof(Py_ssize_t));
    int failed = tuples == NULL || first == NULL || total == NULL || filled == NULL;
    if (failed)
        PyErr_NoMemory();
    for (Py_ssize_t g = 0; !failed && g < s->groups; g++) {
        PyObject *mine = PyTuple_New(s->group[g].size); /* every group has a token */
        PyObject *mark = mine == NULL ? NULL : index_object(g);
        if (mark == NULL) {
            Py_XDECREF(mine);
            failed = 1;
            break;
        }
        PyTuple_SET_ITEM(mine, 0, mark);
        PyObject *have = PyDict_SetDefault(s->by_key, s->group[g].key, mine); /* borrowed */
        Py_DECREF(mine);
        if (have == NULL) {
            failed = 1;
            break;
        }
        Py_ssize_t f = have == mine ? g : PyLong_AsSsize_t(PyTuple_GET_ITEM(have, 0));
        first[g] = f;
        total[f] += s->group[g].size;
        if (f == g)
            tuples[g] = have;
    }
    for (Py_ssize_t g = 0; !failed && g < s->groups; g++) {
        if (first[g] != g || total[g] == PyTuple_GET_SIZE(tuples[g]))
            continue;
        PyObject *all = PyTuple_New(total[g]); /* the key's groups together, in the one its first had */
        failed = all == NULL || PyDict_SetItem(s->by_key, s->group[g].key, all) < 0;
        tuples[g] = all;
        Py_XDECREF(all);
    }
    for (Py_ssize_t i = 0; !failed && i < s->count; i++) {
        Py_ssize_t f = first[s->tokens[i].group];
        PyObject *index = index_object(i);
        if (index == NULL) {
            failed = 1;
            break;
        }
        PyObject *mark = PyTuple_GET_ITEM(tuples[f], filled[f]); /* the group's number, or NULL */
        PyTuple_SET_ITEM(tuples[f], filled[f]++, index);
        Py_XDECREF(mark);
    }
    PyMem_Free(tuples);
    PyMem_Free(first);
    PyMem_Free(total);
    PyMem_Free(filled);
    return failed ? -1 : 0;
}

/* Whether c may stand outside words on the ASCII path (bot.matching.text.ascii_path): ASCII, or one of
   the separators, which include the apostrophes that join words. */
static inline int
allowed(Scan *s, Py_UCS4 c)
{
    return c < 128
           || PyUnicode_FindChar(s->separators, c, 0, PyUnicode_GET_LENGTH(s->separators), 1) >= 0;
}

/* 0: tokenised; 1: the text is not on the ASCII path (found part-way: the words before it are
   remembered, as any other text's would be); -1: an exception is set. */
static int
tokenise(Scan *s)
{
    const int kind = s->kind;
    const void *data = s->data;
    const Py_ssize_t n = s->n;
#define AT(i) PyUnicode_READ(kind, data, (i))
    Py_ssize_t i = 0;
    while (i < n) {
        Py_UCS4 c = AT(i);
        if (!is_alnum(c)) {
            if (!allowed(s, c))
                return 1;
            i++;
            continue;
        }
        Py_ssize_t start = i, end = i + 1;
        while (end < n && is_word(AT(end)))
            end++;
        if (end - start == 1 && is_alpha(c) && end < n && AT(end) == '.') {
            /* A dotted abbreviation: single letters, each followed by a dot (U.S., D.C.). */
            Py_ssize_t dot = end;
            while (dot + 2 < n && is_alpha(AT(dot + 1)) && AT(dot + 2) == '.')
                dot += 2;
            if (dot > end)
                end = dot + 1;
        }
        else {
            /* A word goes on through an apostrophe followed by a letter or digit (O'Brien). */
            while (end + 1 < n && is_apostrophe(AT(end)) && is_alnum(AT(end + 1))) {
                if (!allowed(s, AT(end)))
                    return 1;
                end += 2;
                while (end < n && is_word(AT(end)))
                    end++;
            }
        }
        if (emit(s, start, end) < 0)
            return -1;
        i = end;
    }
#undef AT
    return 0;
}

static PyObject *
scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 4 || nargs > 5 || !PyUnicode_Check(args[0]) || !PyDict_CheckExact(args[1])
        || !PyCallable_Check(args[2]) || !PyUnicode_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "scan(text: str, cache: dict, fill: callable, separators: str, lower_keys: bool = False)");
        return NULL;
    }
    Scan s = {0};
    s.text = args[0];
    s.cache = args[1];
    s.fill = args[2];
    s.separators = args[3];
    if (nargs == 5 && (s.lower_keys = PyObject_IsTrue(args[4])) < 0)
        return NULL;
    if (PyUnicode_READY(s.text) < 0 || PyUnicode_READY(s.separators) < 0)
        return NULL;
    s.kind = PyUnicode_KIND(s.text);
    s.data = PyUnicode_DATA(s.text);
    s.n = PyUnicode_GET_LENGTH(s.text);
    if (!busy) {
        busy = 1; /* first: what emptying the table releases may run code that scans, without it */
        if (known_used >= KNOWN_LIMIT || (known_cache != NULL && known_cache != s.cache))
            forget_all();
        if (known != NULL || grow() == 0) {
            if (known_cache == NULL)
                known_cache = Py_NewRef(s.cache);
            s.remember = 1;
            s.stamp = ++stamps;
        }
        else {
            PyErr_Clear(); /* no memory for the table: do without it */
            busy = 0;
        }
    }
    PyObject *result = NULL;
    int done = tokenise(&s);
    if (s.remember)
        busy = 0;
    if (done == 1) {
        result = Py_NewRef(Py_None);
    }
    else if (done == 0) {
        PyObject *starts = column(&s, offsetof(Token, start));
        PyObject *surfaces = starts == NULL ? NULL : column(&s, offsetof(Token, surface));
        PyObject *keys = surfaces == NULL ? NULL : column(&s, offsetof(Token, key));
        if (keys != NULL && fill_by_key(&s) == 0) /* the keys list holds the groups' keys */
            result = PyTuple_Pack(4, starts, surfaces, keys, s.by_key);
        Py_XDECREF(starts);
        Py_XDECREF(surfaces);
        Py_XDECREF(keys);
    }
    for (Py_ssize_t i = 0; i < s.count; i++) { /* what no list took */
        Py_XDECREF(s.tokens[i].start);
        Py_XDECREF(s.tokens[i].surface);
        Py_XDECREF(s.tokens[i].key);
    }
    PyMem_Free(s.tokens);
    PyMem_Free(s.group);
    Py_XDECREF(s.by_key);
    return result;
}

static PyObject *
forget(PyObject *module, PyObject *unused)
{
    if (busy) {
        PyErr_SetString(PyExc_RuntimeError, "a scan is running");
        return NULL;
    }
    forget_all();
    Py_RETURN_NONE;
}

static PyObject *
remembered(PyObject *module, PyObject *unused)
{
    return PyLong_FromSize_t(known_used);
}

/* A span (a tuple of the type given: bot.core.models.Span) from start to end, with its text. */
static PyObject *
new_span(PyTypeObject *type, Py_ssize_t start, Py_ssize_t end, PyObject *text)
{
    PyObject *span = type->tp_alloc(type, 3);
    PyObject *start_obj = PyLong_FromSsize_t(start), *end_obj = PyLong_FromSsize_t(end);
    if (span == NULL || start_obj == NULL || end_obj == NULL) {
        Py_XDECREF(span);
        Py_XDECREF(start_obj);
        Py_XDECREF(end_obj);
        Py_DECREF(text);
        return NULL;
    }
    PyTuple_SET_ITEM(span, 0, start_obj);
    PyTuple_SET_ITEM(span, 1, end_obj);
    PyTuple_SET_ITEM(span, 2, text); /* takes the reference */
    return span;
}

/* Characters at the end of a token that its span leaves out: 2 for a possessive 's, else 0 (as
   bot.matching.text.possessive_trim). */
static Py_ssize_t
possessive_trim(PyObject *surface)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(surface);
    if (n <= 2)
        return 0;
    int kind = PyUnicode_KIND(surface);
    const void *data = PyUnicode_DATA(surface);
    Py_UCS4 last = PyUnicode_READ(kind, data, n - 1), before = PyUnicode_READ(kind, data, n - 2);
    return (last == 's' || last == 'S') && (is_apostrophe(before) || before == 0x02BC) ? 2 : 0;
}

/* The span from token first to token last, inclusive, a possessive 's at its end left out: a new
   reference, or NULL with an exception set. */
static PyObject *
token_span(PyTypeObject *type, PyObject *text, PyObject *starts, PyObject *surfaces, Py_ssize_t first,
           Py_ssize_t last)
{
    Py_ssize_t n = PyList_GET_SIZE(starts);
    if (first < 0 || last < first || last >= n || PyList_GET_SIZE(surfaces) != n) {
        PyErr_SetString(PyExc_IndexError, "token index out of range");
        return NULL;
    }
    PyObject *surface = PyList_GET_ITEM(surfaces, last);
    Py_ssize_t start = PyLong_AsSsize_t(PyList_GET_ITEM(starts, first));
    Py_ssize_t last_start = PyLong_AsSsize_t(PyList_GET_ITEM(starts, last));
    if ((start == -1 || last_start == -1) && PyErr_Occurred())
        return NULL;
    if (!PyUnicode_Check(surface)) {
        PyErr_SetString(PyExc_TypeError, "surfaces must be str");
        return NULL;
    }
    Py_ssize_t trim = possessive_trim(surface);
    Py_ssize_t end = last_start + PyUnicode_GET_LENGTH(surface) - trim;
    PyObject *span_text;
    if (first == last && !trim) {
        span_text = Py_NewRef(surface); /* the token's own text: no copy */
    }
    else if ((span_text = PyUnicode_Substring(text, start, end)) == NULL) {
        return NULL;
    }
    return new_span(type, start, end, span_text);
}

static int
span_args(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t wanted)
{
    if (nargs != wanted || !PyType_Check(args[0]) || !PyType_IsSubtype((PyTypeObject *)args[0], &PyTuple_Type)
        || !PyUnicode_Check(args[1]) || !PyList_Check(args[2]) || !PyList_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "(span_type: a tuple type, text: str, starts: list, surfaces: list, ...)");
        return -1;
    }
    return 0;
}

/* span(Span, text, starts, surfaces, first, last): Document.span. */
static PyObject *
span(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (span_args(args, nargs, 6) < 0)
        return NULL;
    Py_ssize_t first = PyLong_AsSsize_t(args[4]), last = PyLong_AsSsize_t(args[5]);
    if ((first == -1 || last == -1) && PyErr_Occurred())
        return NULL;
    return token_span((PyTypeObject *)args[0], args[1], args[2], args[3], first, last);
}

/* spans(Span, text, starts, surfaces, indices): a tuple of the spans of these tokens (Document.key_hits). */
static PyObject *
spans(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (span_args(args, nargs, 5) < 0)
        return NULL;
    if (!PyList_Check(args[4]) && !PyTuple_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "indices: a list or a tuple");
        return NULL;
    }
    PyObject *indices = args[4];
    Py_ssize_t n = PySequence_Fast_GET_SIZE(indices);
    PyObject *found = PyTuple_New(n);
    if (found == NULL)
        return NULL;
    Py_ssize_t previous = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t token = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(indices, i));
        if (token <= previous && !PyErr_Occurred()) /* the tuple is taken as sorted and distinct */
            PyErr_SetString(PyExc_ValueError, "token indices must be sorted and distinct");
        previous = token;
        PyObject *one = PyErr_Occurred()
                            ? NULL
                            : token_span((PyTypeObject *)args[0], args[1], args[2], args[3], token, token);
        if (one == NULL) {
            Py_DECREF(found);
            return NULL;
        }
        PyTuple_SET_ITEM(found, i, one);
    }
    return found;
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "scan(text, cache, fill, separators, lower_keys=False) -> (starts, surfaces, keys, by_key), or None off "
     "the ASCII path."},
    {"span", (PyCFunction)(void (*)(void))span, METH_FASTCALL,
     "span(Span, text, starts, surfaces, first, last) -> the span from token first to token last."},
    {"spans", (PyCFunction)(void (*)(void))spans, METH_FASTCALL,
     "spans(Span, text, starts, surfaces, indices) -> a tuple of the spans of these tokens."},
    {"forget", forget, METH_NOARGS, "Empty the table of surfaces met."},
    {"remembered", remembered, METH_NOARGS, "How many surfaces the table holds."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "bot.matching._scan", "The ASCII path's token tables in C.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__scan(void)
{
    PyObject *name = PyUnicode_FromString(module.m_name);
    if (name == NULL)
        return NULL;
    Py_hash_t secret = PyObject_Hash(name); /* differs from process to process (PYTHONHASHSEED) */
    Py_DECREF(name);
    if (secret == -1)
        return NULL;
    salt = (Py_uhash_t)secret ^ 14695981039346656037ULL;
    return PyModule_Create(&module);
}
