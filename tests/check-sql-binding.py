#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''check-sql-binding.py: every SQL statement of the daemon is a constant,
and every value in it is a bound parameter.

    check-sql-binding.py SOURCE_ROOT          scan daemon/ (exit 1 on a finding)
    check-sql-binding.py [Scanner.test_...]   the scanner's tests, the tree's among
                                              them ($DERMAROLL_SOURCE_ROOT)

A static check, kept in CI (tests/meson.build): it reads daemon/**/*.c and
fails on
- a printf-style call (g_strdup_printf, sqlite3_mprintf, snprintf, ...) whose
  format string looks like SQL: SQL built by formatting;
- a call of an SQL entry point (sqlite3_prepare*, sqlite3_exec, and the
  store's own wrappers: every function that takes `const char *sql`) whose
  SQL argument is not a string literal (adjacent literals, or a ?: between
  literals), an element of a static array of literals, or the enclosing
  wrapper's own `sql` parameter (its callers are checked in turn).
Exceptions are the ALLOWED table below, each with its reason; an entry that
no longer matches anything fails too, so the table cannot rot.
Standard library only.
'''

import os
import re
import sys
import unittest

# (file relative to the source root, function, reason)
ALLOWED = [
    ('daemon/store/store-schema.c', 'store_migrate',
     'PRAGMA application_id and PRAGMA user_version take no bound parameters; '
     'the values are compile-time integers (DR_STORE_APPLICATION_ID, the number of migrations)'),
]

PRINTF_FUNCS = {
    'g_strdup_printf', 'g_strdup_vprintf', 'g_string_printf', 'g_string_append_printf',
    'g_string_vprintf', 'g_string_append_vprintf', 'g_snprintf', 'g_vsnprintf',
    'g_sprintf', 'g_vasprintf', 'sqlite3_mprintf', 'sqlite3_vmprintf', 'sqlite3_snprintf',
    'sqlite3_vsnprintf', 'sqlite3_str_appendf', 'sqlite3_str_vappendf', 'snprintf', 'sprintf',
    'vsnprintf', 'vsprintf', 'asprintf', 'vasprintf',
}
# Built-in SQL entry points and the index of their SQL argument.
SINKS = {
    'sqlite3_prepare': 1, 'sqlite3_prepare_v2': 1, 'sqlite3_prepare_v3': 1,
    'sqlite3_prepare16': 1, 'sqlite3_prepare16_v2': 1, 'sqlite3_prepare16_v3': 1,
    'sqlite3_exec': 1,
}
SQL_WORDS = re.compile(
    r'\b(SELECT|INSERT|UPDATE|DELETE|REPLACE|PRAGMA|CREATE|DROP|ALTER|ATTACH|DETACH|VACUUM|'
    r'WHERE|VALUES|FROM|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b')
IDENT = r'[A-Za-z_][A-Za-z0-9_]*'
STRING = r'"(?:[^"\\\n]|\\.)*"'


def strip_comments(text):
    '''C source with comments blanked (newlines kept) and string literals
    kept as they are.'''
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def call_args(text, open_paren):
    '''The top-level arguments of the call whose '(' is at open_paren, and
    the index just past its ')'.'''
    depth, args, start, i = 0, [], open_paren + 1, open_paren
    while i < len(text):
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            i = j + 1
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                args.append(text[start:i].strip())
                return args, i + 1
        elif c == ',' and depth == 1:
            args.append(text[start:i].strip())
            start = i + 1
        i += 1
    return args, i


def function_spans(text):
    '''(name, parameter text, body start, body end) of every function
    definition at file scope.'''
    spans = []
    for m in re.finditer(r'^(' + IDENT + r')\s*\(', text, re.M):
        params, end = call_args(text, m.end() - 1)
        rest = text[end:]
        body = re.match(r'\s*\{', rest)
        if not body:
            continue
        start = end + body.end() - 1
        depth, i = 0, start
        while i < len(text):
            if text[i] == '"':
                j = i + 1
                while j < len(text) and text[j] != '"':
                    j += 2 if text[j] == '\\' else 1
                i = j
            elif text[i] == '{':
                depth += 1
            elif text[i] == '}':
                depth -= 1
                if depth == 0:
                    break
            i += 1
        spans.append((m.group(1), params, start, i))
    return spans


def literal_arrays(text):
    '''Names of static arrays whose initializer is string literals only.'''
    names = set()
    for m in re.finditer(r'static\s+const\s+char\s*\*\s*(?:const\s+)?(' + IDENT +
                         r')\s*\[\s*\]\s*=\s*\{', text):
        args, _ = call_args(text, m.end() - 1)
        if all(re.fullmatch(r'(?:\s*' + STRING + r'\s*)+', a) for a in args if a):
            names.add(m.group(1))
    return names


def sql_param_index(params):
    '''Index of a `const char *sql` parameter, or None.'''
    for i, p in enumerate(params):
        if re.fullmatch(r'const\s+char\s*\*\s*sql', p.strip()):
            return i
    return None


def string_macros(texts):
    '''Names of object-like macros that are string literals.'''
    names = set()
    for text in texts:
        for m in re.finditer(r'^\s*#\s*define\s+(' + IDENT + r')\s+((?:' + STRING + r'\s*)+)$',
                             text, re.M):
            names.add(m.group(1))
    return names


def is_constant_sql(arg, arrays, own_param, macros=frozenset()):
    arg = arg.strip()
    # A string macro between literals is a literal.
    if macros:
        arg = re.sub(r'\b(' + IDENT + r')\b',
                     lambda m: '""' if m.group(1) in macros else m.group(1), arg)
    while arg.startswith('(') and arg.endswith(')'):
        arg = arg[1:-1].strip()
    if re.fullmatch(r'(?:\s*' + STRING + r'\s*)+', arg):
        return True
    m = re.fullmatch(r'(.+?)\?(.+):(.+)', arg, re.S)
    if m and re.search(STRING, m.group(2)) and re.search(STRING, m.group(3)):
        return (is_constant_sql(m.group(2), arrays, own_param, macros)
                and is_constant_sql(m.group(3), arrays, own_param, macros))
    m = re.fullmatch(r'(' + IDENT + r')\s*\[.*\]', arg, re.S)
    if m and m.group(1) in arrays:
        return True
    return own_param is not None and arg == own_param


def scan(files):
    '''files: {relative path: text}. Returns a list of (path, function,
    line, message).'''
    stripped = {path: strip_comments(text) for path, text in files.items()}
    sinks = dict(SINKS)
    macros = string_macros(stripped.values())
    # The wrappers: any function with a `const char *sql` parameter.
    for text in stripped.values():
        for name, params, _, _ in function_spans(text):
            index = sql_param_index(params)
            if index is not None:
                sinks[name] = index
    findings = []
    for path, text in sorted(stripped.items()):
        if not path.endswith('.c'):
            continue
        arrays = literal_arrays(text)
        for name, params, start, end in function_spans(text):
            body = text[start:end]
            own = 'sql' if sql_param_index(params) is not None else None
            for m in re.finditer(r'\b(' + IDENT + r')\s*\(', body):
                callee = m.group(1)
                line = text.count('\n', 0, start + m.start()) + 1
                if callee not in PRINTF_FUNCS and callee not in sinks:
                    continue
                args, _ = call_args(body, m.end() - 1)
                if callee in PRINTF_FUNCS:
                    formats = ' '.join(re.findall(STRING, ' '.join(args)))
                    if SQL_WORDS.search(formats):
                        findings.append((path, name, line,
                                         f'{callee} () builds SQL by formatting: bind the values'))
                if callee in sinks and len(args) > sinks[callee]:
                    arg = args[sinks[callee]]
                    if not is_constant_sql(arg, arrays, own, macros):
                        findings.append((path, name, line,
                                         f'{callee} () with SQL that is not a constant: {arg}'))
    return findings


def check_tree(root):
    files = {}
    for dirpath, _, names in os.walk(os.path.join(root, 'daemon')):
        for n in names:
            if n.endswith(('.c', '.h')):
                full = os.path.join(dirpath, n)
                with open(full, encoding='utf-8') as f:
                    files[os.path.relpath(full, root)] = f.read()
    findings = scan(files)
    allowed = {(p, fn) for p, fn, _ in ALLOWED}
    bad = [f for f in findings if (f[0], f[1]) not in allowed]
    used = {(f[0], f[1]) for f in findings}
    stale = [a for a in ALLOWED if (a[0], a[1]) not in used]
    return files, findings, bad, stale


class Scanner(unittest.TestCase):
    '''The scanner finds what it must and nothing else.'''

    def findings(self, code):
        return [(f[1], f[3]) for f in scan({'x.c': code})]

    def test_literal_is_clean(self):
        self.assertEqual(self.findings(
            'static int\nf (DrStore *self)\n{\n'
            '  stmt = store_prepare (self, "SELECT a FROM t"\n " WHERE id = ?", error);\n'
            '  sqlite3_exec (db, flag ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",'
            ' NULL, NULL, NULL);\n}\n'
            'sqlite3_stmt *\nstore_prepare (DrStore *self, const char *sql, GError **error)\n{\n'
            '  return sqlite3_prepare_v3 (self->db, sql, -1, 0, &s, NULL);\n}\n'), [])

    def test_printf_sql_is_found(self):
        found = self.findings(
            'static int\nf (const char *zone)\n{\n'
            '  g_autofree char *q = g_strdup_printf ("SELECT * FROM t WHERE zone = \'%s\'", zone);\n'
            '  sqlite3_exec (db, q, NULL, NULL, NULL);\n}\n')
        self.assertEqual(len(found), 2, found)
        self.assertIn('by formatting', found[0][1])
        self.assertIn('not a constant: q', found[1][1])

    def test_variable_sql_through_a_wrapper_is_found(self):
        found = self.findings(
            'gboolean\nstore_exec (DrStore *self, const char *sql, GError **error)\n{\n'
            '  return sqlite3_exec (self->db, sql, NULL, NULL, NULL) == 0;\n}\n'
            'static void\ng (char *name)\n{\n'
            '  char *q = g_strconcat ("DELETE FROM t WHERE n = \'", name, "\'", NULL);\n'
            '  store_exec (self, q, error);\n}\n')
        self.assertEqual(found, [('g', 'store_exec () with SQL that is not a constant: q')])

    def test_sqlite_mprintf_is_found(self):
        found = self.findings('static void\nh (void)\n{\n'
                              '  char *q = sqlite3_mprintf ("INSERT INTO t VALUES (%Q)", v);\n}\n')
        self.assertEqual(len(found), 1, found)

    def test_literal_array_is_clean(self):
        self.assertEqual(self.findings(
            'static const char *const migrations[] = {\n  "CREATE TABLE a (x)",\n'
            '  "CREATE TABLE b (y)",\n};\n'
            'static void\nm (int v)\n{\n  sqlite3_exec (db, migrations[v], NULL, NULL, NULL);\n}\n'), [])

    def test_string_macro_is_literal(self):
        wrapper = ('sqlite3_stmt *\nstore_prepare (DrStore *self, const char *sql, GError **e)\n{\n'
                   '  return NULL;\n}\n')
        self.assertEqual(self.findings(
            '#define PREFIX "zone:"\n' + wrapper + 'static void\nm (void)\n{\n'
            '  store_prepare (self, "SELECT 1 FROM t WHERE k = \'" PREFIX "\' || ?", e);\n}\n'), [])
        found = self.findings(wrapper + 'static void\nm (void)\n{\n'
                              '  store_prepare (self, "SELECT 1 FROM t WHERE k = " prefix, e);\n}\n')
        self.assertEqual(len(found), 1, found)

    def test_non_sql_printf_is_clean(self):
        self.assertEqual(self.findings(
            'static void\nm (int v)\n{\n'
            '  char *w = g_strdup_printf ("cannot migrate schema to version %d", v);\n}\n'), [])

    def test_comment_is_ignored(self):
        self.assertEqual(self.findings(
            'static void\nm (int v)\n{\n'
            '  /* g_strdup_printf ("SELECT %d", v) would be wrong */\n}\n'), [])

    def test_tree(self):
        '''The daemon's own sources: clean but for the allow-list, which
        has no stale entry.'''
        root = os.environ.get('DERMAROLL_SOURCE_ROOT') or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), '..')
        files, findings, bad, stale = check_tree(root)
        self.assertTrue(any(p.startswith('daemon/store/') and p.endswith('.c') for p in files),
                        'no store sources found')
        self.assertEqual(bad, [], 'SQL not built from constants with bound parameters')
        self.assertEqual(stale, [], 'allow-list entries that match nothing')


def main(argv):
    if len(argv) == 2 and os.path.isdir(argv[1]):
        root = argv[1]
    else:
        # The scanner's tests, or one of them (tests/meson.build runs each
        # case on its own).
        return unittest.main(argv=[a for a in argv if a != '--self-test'], verbosity=2)
    files, findings, bad, stale = check_tree(root)
    for path, fn, line, message in bad:
        print(f'{path}:{line}: in {fn} (): {message}')
    for path, fn, reason in stale:
        print(f'{path}: {fn} (): allow-list entry matches nothing ({reason})')
    for path, fn, line, message in findings:
        if (path, fn) not in {(a[0], a[1]) for a in ALLOWED}:
            continue
        print(f'{path}:{line}: in {fn} (): allowed: {message}')
    print(f'{len(files)} files, {len(bad)} findings, {len(stale)} stale allow-list entries')
    return 1 if bad or stale else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
