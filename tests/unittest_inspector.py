#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''unittest_inspector.py: the test cases of a Python test file, one a line.

    unittest_inspector.py TEST_FILE

Prints Class.test_method for every case unittest would run in TEST_FILE, so
that tests/meson.build can register each case as its own meson test (run
with the case as argument): `meson test --list` shows the cases, and a
failure names the one that failed. Run at configure time; it imports the
file (which must not start anything on import) under its own name, so files
named test-foo.py work as well as test_foo.py.
'''

import importlib.util
import os
import sys
import unittest


def cases(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from cases(item)
        else:
            yield item


def main():
    path = os.path.abspath(sys.argv[1])
    sys.path.insert(0, os.path.dirname(path))
    name = os.path.splitext(os.path.basename(path))[0].replace('-', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    seen = set()
    for case in cases(unittest.defaultTestLoader.loadTestsFromModule(module)):
        # id() is module.Class.method; classes imported from elsewhere (a
        # shared base class) count only if unittest would run them here.
        case_id = '.'.join(case.id().split('.')[-2:])
        if case_id not in seen:
            seen.add(case_id)
            print(case_id)
    return 0


if __name__ == '__main__':
    sys.exit(main())
