# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.


import json
import os
from unittest import mock

import fixtures
from testtools import matchers
import yaml

from esi_agent import exception
from esi_agent.render import templates
from esi_agent.tests import base
from esi_agent.tests import reference

KEY = '/config/v2.0/heat_templates/'


def record(template_file, marked_for_deletion=False):
    return {'body': {'id': 'x', 'handler': 'heat_worker',
                     'template_file': template_file},
            'marked_for_deletion': marked_for_deletion, 'version': 1}


class TestTemplateSource(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.etcd = {}
        self.reads = []

    def _read_json(self, key):
        self.reads.append(key)
        return self.etcd.get(key)

    def _source(self, template_dir=True):
        return templates.TemplateSource(
            self._read_json, self.dir if template_dir else None)

    def _write(self, name, text, encoding='utf-8'):
        with open(os.path.join(self.dir, name), 'w',
                  encoding=encoding) as f:
            f.write(text)

    def test_from_etcd(self):
        self.etcd[KEY + 'network'] = record('from: etcd\n')
        self._write('network.yaml', 'from: file\n')
        self.assertEqual('from: etcd\n', self._source().get('network'))
        self.assertEqual([KEY + 'network'], self.reads)

    def test_from_file(self):
        self._write('network.yaml', 'from: file\n')
        self.assertEqual('from: file\n', self._source().get('network'))

    def test_marked_for_deletion_falls_back_to_file(self):
        self.etcd[KEY + 'network'] = record('from: etcd\n', True)
        self._write('network.yaml', 'from: file\n')
        self.assertEqual('from: file\n', self._source().get('network'))

    def test_not_found(self):
        error = self.assertRaises(exception.TemplateNotFound,
                                  self._source().get, 'network')
        self.assertEqual('Heat template network not found in etcd '
                         '(%snetwork) nor in template_dir (%s)'
                         % (KEY, os.path.join(self.dir, 'network.yaml')),
                         str(error))

    def test_marked_for_deletion_and_no_file(self):
        self.etcd[KEY + 'network'] = record('from: etcd\n', True)
        self.assertRaises(exception.TemplateNotFound, self._source().get,
                          'network')

    def test_not_found_without_template_dir(self):
        error = self.assertRaises(exception.TemplateNotFound,
                                  self._source(template_dir=False).get,
                                  'network')
        self.assertEqual('Heat template network not found in etcd '
                         '(%snetwork) nor in template_dir (not configured)'
                         % KEY, str(error))

    def test_malformed_etcd_record(self):
        for value in ({}, {'body': {}}, {'body': 'x'}, 'text',
                      record(None), record(['a'])):
            self.etcd[KEY + 'network'] = value
            error = self.assertRaises(exception.TemplateRenderError,
                                      self._source().get, 'network')
            self.assertEqual('Cannot render Heat template network: the etcd '
                             'record %snetwork has no body.template_file '
                             'string' % KEY, str(error))

    def test_unreadable_file(self):
        os.mkdir(os.path.join(self.dir, 'network.yaml'))
        error = self.assertRaises(exception.TemplateRenderError,
                                  self._source().get, 'network')
        self.assertIn('Cannot render Heat template network: cannot read '
                      '%s: ' % os.path.join(self.dir, 'network.yaml'),
                      str(error))

    def test_file_not_utf8(self):
        self._write('network.yaml', 'description: caf\xe9\n', 'latin-1')
        error = self.assertRaises(exception.TemplateRenderError,
                                  self._source().get, 'network')
        self.assertIn("cannot read %s: 'utf-8' codec can't decode"
                      % os.path.join(self.dir, 'network.yaml'), str(error))

    def test_safe_template_ids(self):
        for template_id in ('ese_device_existing', 'gw-interface.v2', '_x'):
            self.etcd[KEY + template_id] = record('a: b')
            self.assertEqual('a: b', self._source().get(template_id))

    def test_unsafe_template_ids(self):
        for template_id in ('../network', 'a/b', '/etc/passwd', '..', '.',
                            '.hidden', '', 'a\x00b', 'a b', 'a\\b',
                            'network\n'):
            error = self.assertRaises(exception.TemplateRenderError,
                                      self._source().get, template_id)
            self.assertEqual('Cannot render Heat template %s: a template id '
                             'may only contain letters, digits, "_", "-" '
                             'and "." (not first)' % template_id,
                             str(error))
        self.assertEqual([], self.reads)


class FakeKV(object):

    def __init__(self, key, value, mod_revision):
        self.key = key
        self.value = value
        self.mod_revision = mod_revision

    def json(self):
        if isinstance(self.value, bytes):
            return json.loads(self.value.decode('utf-8'))
        return json.loads(json.dumps(self.value))


class FakeEtcd(object):
    """The two reads of CachedTemplateSource, over a dict, with revisions."""

    def __init__(self, records=None):
        self.records = records if records is not None else {}
        self.revision = 0
        self.mod = {}
        self.calls = []

    def put(self, key, value):
        self.revision += 1
        self.records[key] = value
        self.mod[key] = self.revision

    def delete(self, key):
        self.revision += 1
        del self.records[key]

    def _keys(self, prefix):
        return sorted(k for k in self.records if k.startswith(prefix))

    def prefix_stat(self, prefix):
        self.calls.append('stat')
        keys = self._keys(prefix)
        return len(keys), max((self.mod.get(k, 1) for k in keys), default=0)

    def snapshot(self, prefix):
        self.calls.append('snapshot')
        return [FakeKV(k, self.records[k], self.mod.get(k, 1))
                for k in self._keys(prefix)], self.revision


class TestCachedSourceAsSource(TestTemplateSource):
    """The cached source finds the same bodies as the plain one."""

    def _source(self, template_dir=True):
        self.client = FakeEtcd(self.etcd)
        self.client.calls = self.reads
        return templates.CachedTemplateSource(
            self.client, self.dir if template_dir else None, 0)

    def test_from_etcd(self):
        self.etcd[KEY + 'network'] = record('from: etcd\n')
        self._write('network.yaml', 'from: file\n')
        self.assertEqual('from: etcd\n', self._source().get('network'))
        self.assertEqual(['stat', 'snapshot'], self.reads)


class TestCachedTemplateSource(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.etcd = FakeEtcd()
        self.now = 1000.0
        self.useFixture(fixtures.MockPatch(
            'esi_agent.render.templates.time.monotonic',
            lambda: self.now))

    def _source(self, interval=5.0):
        return templates.CachedTemplateSource(self.etcd, self.dir, interval)

    def _write(self, name, text):
        with open(os.path.join(self.dir, name), 'w', encoding='utf-8') as f:
            f.write(text)

    def test_no_etcd_read_within_the_interval(self):
        self.etcd.put(KEY + 'network', record('v: 1\n'))
        source = self._source()
        self.assertEqual('v: 1\n', source.get('network'))
        self.assertEqual(['stat', 'snapshot'], self.etcd.calls)
        self.now += 4.9
        for _ in range(3):
            self.assertEqual('v: 1\n', source.get('network'))
        self.assertEqual(['stat', 'snapshot'], self.etcd.calls)

    def test_unchanged_prefix_is_checked_not_read(self):
        self.etcd.put(KEY + 'network', record('v: 1\n'))
        source = self._source()
        source.get('network')
        self.now += 5
        self.assertEqual('v: 1\n', source.get('network'))
        self.assertEqual(['stat', 'snapshot', 'stat'], self.etcd.calls)
        # Checked again only one interval later.
        source.get('network')
        self.assertEqual(3, len(self.etcd.calls))

    def test_published_body_used_after_the_interval(self):
        self.etcd.put(KEY + 'network', record('v: 1\n'))
        source = self._source()
        source.get('network')
        self.etcd.put(KEY + 'network', record('v: 2\n'))
        self.now += 1
        self.assertEqual('v: 1\n', source.get('network'))
        self.now += 4
        self.assertEqual('v: 2\n', source.get('network'))
        self.assertEqual(['stat', 'snapshot', 'stat', 'snapshot'],
                         self.etcd.calls)

    def test_other_template_published(self):
        self.etcd.put(KEY + 'network', record('v: 1\n'))
        source = self._source()
        self.assertRaises(exception.TemplateNotFound, source.get, 'subnet')
        self.etcd.put(KEY + 'subnet', record('s: 1\n'))
        self.now += 5
        self.assertEqual('s: 1\n', source.get('subnet'))

    def test_marked_for_deletion_falls_back_to_file(self):
        self._write('network.yaml', 'from: file\n')
        self.etcd.put(KEY + 'network', record('from: etcd\n'))
        source = self._source()
        self.assertEqual('from: etcd\n', source.get('network'))
        self.etcd.put(KEY + 'network', record('from: etcd\n', True))
        self.now += 5
        self.assertEqual('from: file\n', source.get('network'))

    def test_deleted_record_falls_back_to_file(self):
        # A delete alone lowers the count, the latest mod_revision being
        # that of another key.
        self._write('network.yaml', 'from: file\n')
        self.etcd.put(KEY + 'network', record('from: etcd\n'))
        self.etcd.put(KEY + 'subnet', record('s: 1\n'))
        source = self._source()
        self.assertEqual('from: etcd\n', source.get('network'))
        self.etcd.delete(KEY + 'network')
        self.now += 5
        self.assertEqual('from: file\n', source.get('network'))

    def test_zero_interval_checks_every_render(self):
        self.etcd.put(KEY + 'network', record('v: 1\n'))
        source = self._source(interval=0)
        source.get('network')
        source.get('network')
        self.etcd.put(KEY + 'network', record('v: 2\n'))
        self.assertEqual('v: 2\n', source.get('network'))
        self.assertEqual(['stat', 'snapshot', 'stat', 'stat', 'snapshot'],
                         self.etcd.calls)

    def test_file_read_again_after_the_interval(self):
        self._write('network.yaml', 'v: 1\n')
        source = self._source()
        self.assertEqual('v: 1\n', source.get('network'))
        self._write('network.yaml', 'v: 2\n')
        self.now += 1
        self.assertEqual('v: 1\n', source.get('network'))
        self.now += 4
        self.assertEqual('v: 2\n', source.get('network'))

    def test_missing_file_noticed_after_the_interval(self):
        source = self._source()
        self.assertRaises(exception.TemplateNotFound, source.get, 'network')
        self._write('network.yaml', 'v: 1\n')
        self.assertRaises(exception.TemplateNotFound, source.get, 'network')
        self.now += 5
        self.assertEqual('v: 1\n', source.get('network'))

    def test_unreadable_file_is_not_cached(self):
        os.mkdir(os.path.join(self.dir, 'network.yaml'))
        source = self._source()
        self.assertRaises(exception.TemplateRenderError, source.get,
                          'network')
        os.rmdir(os.path.join(self.dir, 'network.yaml'))
        self._write('network.yaml', 'v: 1\n')
        self.assertEqual('v: 1\n', source.get('network'))

    def test_record_that_is_not_json(self):
        self.etcd.put(KEY + 'network', b'{not json')
        self.etcd.put(KEY + 'subnet', record('s: 1\n'))
        source = self._source()
        error = self.assertRaises(exception.TemplateRenderError,
                                  source.get, 'network')
        self.assertIn('the etcd record %snetwork is not JSON' % KEY,
                      str(error))
        self.assertEqual('s: 1\n', source.get('subnet'))

    def test_etcd_error_is_raised_and_checked_again(self):
        self.etcd.put(KEY + 'network', record('v: 1\n'))
        source = self._source()
        source.get('network')
        self.now += 5
        with mock.patch.object(self.etcd, 'prefix_stat',
                               side_effect=exception.EtcdError(reason='x')):
            self.assertRaises(exception.EtcdError, source.get, 'network')
        self.assertEqual('v: 1\n', source.get('network'))


class TestRender(base.TestCase):

    def _render(self, body, **jinja_parameters):
        return templates.render('tmpl', body, jinja_parameters)

    def _error(self, body, **jinja_parameters):
        error = self.assertRaises(exception.TemplateRenderError,
                                  self._render, body, **jinja_parameters)
        return str(error)

    def test_no_jinja(self):
        body = 'heat_template_version: 2013-05-23\n\nresources: {}'
        self.assertEqual(body, self._render(body))

    def test_parameters(self):
        self.assertEqual('a: 10.0.0.1 x\nb: [1, 2]', self._render(
            'a: {{ jinja_fixed_ips[0].ip_address }} {{ jinja_name }}\n'
            'b: {{ jinja_ids }}',
            jinja_fixed_ips=[{'ip_address': '10.0.0.1'}], jinja_name='x',
            jinja_ids=[1, 2]))

    def test_default_whitespace_handling(self):
        body = ('resources:\n'
                '{% for id in jinja_ids %}\n'
                '  r{{ id }}: {}\n'
                '{% endfor %}\n')
        self.assertEqual('resources:\n\n  r1: {}\n\n  r2: {}\n',
                         self._render(body, jinja_ids=[1, 2]))

    def test_trailing_newline_is_dropped(self):
        self.assertEqual('a: b\n', self._render('a: b\n\n'))
        self.assertEqual('a: b', self._render('a: b\n'))

    def test_undefined_renders_empty(self):
        self.assertEqual('a: ', self._render('a: {{ jinja_missing }}'))

    def test_syntax_error(self):
        self.assertEqual("Cannot render Heat template tmpl: syntax error at "
                         "line 3: unexpected '}', expected ')'",
                         self._error('a: 1\nb: 2\nc: {{ foo( }}\n'))

    def test_unknown_filter(self):
        self.assertEqual("Cannot render Heat template tmpl: syntax error at "
                         "line 2: No filter named 'nofilter'.",
                         self._error('a: 1\nb: {{ x | nofilter }}'))

    def test_sandbox_violation(self):
        self.assertEqual("Cannot render Heat template tmpl: sandbox "
                         "violation at line 2: access to attribute "
                         "'__class__' of 'str' object is unsafe.",
                         self._error("a: 1\nb: {{ ''.__class__.__mro__ }}"))

    def test_sandbox_violation_through_globals(self):
        self.assertEqual("Cannot render Heat template tmpl: sandbox "
                         "violation at line 1: access to attribute "
                         "'__init__' of 'type' object is unsafe.",
                         self._error('{{ cycler.__init__.__globals__ }}'))

    def test_unsafe_attribute_of_a_parameter(self):
        self.assertIn('sandbox violation at line 1',
                      self._error('{{ jinja_x.__class__.__subclasses__() }}',
                                  jinja_x='s'))

    def test_one_unsafe_attribute(self):
        # Jinja2 alone renders these as empty strings.
        for body, attribute, kind in (
                ("{{ ''.__class__ }}", '__class__', 'str'),
                ('{{ self._TemplateReference__context }}',
                 '_TemplateReference__context', 'TemplateReference'),
                ("{{ '{0.__class__}'.format(1) }}", '__class__', 'int'),
                ("{{ ''|attr('__class__') }}", '__class__', 'str')):
            self.assertEqual("Cannot render Heat template tmpl: sandbox "
                             "violation at line 1: access to attribute %r "
                             "of %r object is unsafe." % (attribute, kind),
                             self._error(body), body)

    def test_secret_quoted_by_an_error_is_masked(self):
        self.assertEqual("Cannot render Heat template tmpl: ValueError at "
                         "line 1: '***' is not in list",
                         self._error('{{ [].index(jinja_admin_password) }}',
                                     jinja_admin_password='s3cr3t-pw'))

    def test_undefined_attribute(self):
        self.assertEqual("Cannot render Heat template tmpl: UndefinedError "
                         "at line 2: 'jinja_missing' is undefined",
                         self._error('a: 1\nb: {{ jinja_missing.id }}'))

    def test_runtime_error(self):
        self.assertEqual('Cannot render Heat template tmpl: '
                         'ZeroDivisionError at line 3: division by zero',
                         self._error('a\nb\n{{ 1 / 0 }}'))

    def test_sandbox_range_limit(self):
        self.assertIn('Cannot render Heat template tmpl: OverflowError at '
                      'line 1: Range too big.',
                      self._error('{{ range(10 ** 9) | list | length }}'))

    def test_error_in_a_parameter(self):
        class Unprintable(object):
            def __str__(self):
                raise RuntimeError('no text')

        self.assertEqual('Cannot render Heat template tmpl: RuntimeError at '
                         'line 2: no text',
                         self._error('a: 1\nb: {{ x }}', x=Unprintable()))

    def test_error_outside_the_template(self):
        error = self.assertRaises(exception.TemplateRenderError,
                                  templates.render, 'tmpl', 'a: 1',
                                  ['not', 'a', 'mapping'])
        self.assertIn('Cannot render Heat template tmpl: ValueError: ',
                      str(error))

    def test_compiled_once_per_body(self):
        templates._compile.cache_clear()
        self._render('a: {{ jinja_x }}', jinja_x=1)
        self._render('a: {{ jinja_x }}', jinja_x=2)
        self._render('b: {{ jinja_x }}', jinja_x=2)
        info = templates._compile.cache_info()
        self.assertEqual((1, 2), (info.hits, info.misses))


class TestCheckRendered(base.TestCase):

    def _error(self, text):
        error = self.assertRaises(exception.TemplateRenderError,
                                  templates.check_rendered, 'tmpl', text)
        return str(error)

    def test_mapping(self):
        self.assertIsNone(templates.check_rendered(
            'tmpl', 'heat_template_version: 2013-05-23\n'
                    'resources:\n  r: {type: OS::Heat::None}\n'))

    def test_invalid_yaml(self):
        error = self._error('a:\n  b: 1\n - c\n')
        self.assertThat(error, matchers.StartsWith(
            'Cannot render Heat template tmpl: the rendered template is not '
            'valid YAML: '))
        self.assertThat(error, matchers.EndsWith(' at line 3, column 2'))

    def test_not_a_mapping(self):
        for text, kind in (('- a\n- b\n', 'list'), ('just text', 'str'),
                           ('', 'NoneType'), ('42', 'int')):
            self.assertEqual('Cannot render Heat template tmpl: the rendered '
                             'template is not a YAML mapping (it loads as '
                             '%s)' % kind, self._error(text))

    def test_unsafe_yaml_tags_are_rejected(self):
        self.assertIn('the rendered template is not valid YAML: could not '
                      'determine a constructor for the tag',
                      self._error('a: !!python/object/apply:os.system '
                                  '["true"]\n'))


def _loaded(text):
    """What a full yaml.load says of ``text``, as check_rendered did."""
    try:
        document = yaml.load(text, Loader=templates._YAML_LOADER)
    except yaml.YAMLError as e:
        return 'not valid YAML: %s' % templates._yaml_error(e)
    except Exception as e:
        return type(e)
    return 'ok' if isinstance(document, dict) else type(document).__name__


def _checked(text):
    try:
        templates.check_rendered('tmpl', text)
    except exception.TemplateRenderError as e:
        message = str(e).split(': the rendered template is ', 1)[1]
        if message.startswith('not a YAML mapping'):
            return message.split('loads as ')[1].rstrip(')')
        return message
    except Exception as e:
        return type(e)
    return 'ok'


EDGE_CASES = [
    'a: 1\n',
    'heat_template_version: 2018-08-31\nresources: {}\n',
    'a: [1, 2.5, .inf, -.nan, 1_000, 0x1f, 0o17, 190:20:30, 1.5e3]\n',
    'a: {b: null, c: ~, d: yes, e: Off, f: "x", g: \'y\'}\n',
    'a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\n',
    'a: 2018-13-45\n',                       # a date that is not one
    'a: 0b_\n',                              # an int that is not one
    'a: !!str 12\nb: !!int "7"\nc: !!float "1.5"\n',
    'a: !!int "x"\n',
    'a: !!binary aGVsbG8=\n',
    'a: !!binary "not base64!"\n',
    'a: !Ref x\n',
    'a: !!python/name:os.system\n',
    'base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n',
    'derived:\n  <<: 1\n',
    'a: &x [1, 2]\nb: *x\n',
    'a: &x {k: v}\nb: *x\n',
    'a: *missing\n',
    '? [1, 2]\n: v\n',
    '? {k: v}\n: v\n',
    '=: value\n',
    'a: !!set {x, y}\n',
    'a: !!omap [x: 1]\n',
    'a: 1\n---\nb: 2\n',
    '- a\n', 'text', '', '42', 'null\n', '!!map {}\n', '!!str x\n',
    'a:\n  b: 1\n - c\n',
    'a: b: c\n',
]


class TestCheckRenderedAsLoad(base.TestCase):
    """check_rendered says what a full yaml.load said, in less time."""

    def assertSame(self, text):
        self.assertEqual(_loaded(text), _checked(text), text)

    def test_edge_cases(self):
        for text in EDGE_CASES:
            self.assertSame(text)

    def test_reference_renders(self):
        reference.skip_unless_available(self)
        for case in reference.render_cases():
            self.assertSame(case['rendered_template'])

    def test_plain_templates_are_not_loaded(self):
        texts = [case['rendered_template']
                 for case in (reference.render_cases()
                              if reference.available() else ())]
        texts.append('heat_template_version: 2018-08-31\n'
                     'parameters: {name: {type: string, default: x}}\n'
                     'resources:\n  r:\n    type: OS::Heat::Value\n'
                     '    properties: {value: [1, 2.5, null, yes]}\n')
        with mock.patch.object(yaml, 'load',
                               side_effect=AssertionError) as load:
            for text in texts:
                templates.check_rendered('tmpl', text)
        load.assert_not_called()

    def test_other_documents_are_loaded(self):
        with mock.patch.object(yaml, 'load', wraps=yaml.load) as load:
            templates.check_rendered('tmpl',
                                     'base: &b {x: 1}\nderived:\n  <<: *b\n')
            self.assertRaises(exception.TemplateRenderError,
                              templates.check_rendered, 'tmpl', '- a\n')
        self.assertEqual(2, load.call_count)
