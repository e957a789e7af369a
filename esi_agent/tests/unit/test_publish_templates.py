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


"""``tools/publish-templates``: the template records it puts in etcd."""

import importlib.machinery
import importlib.util
import io
import os

import fixtures

from esi_agent.render import templates
from esi_agent.tests import base

ROOT = os.path.abspath(os.path.join(
    os.path.dirname(__file__), '..', '..', '..'))
SCRIPT = os.path.join(ROOT, 'tools', 'publish-templates')
SHIPPED = os.path.join(ROOT, 'etc', 'esi-agent', 'templates')


def load_script():
    loader = importlib.machinery.SourceFileLoader('publish_templates',
                                                  SCRIPT)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class FakeClient(object):

    def __init__(self):
        self.puts = {}

    def put(self, key, value):
        self.puts[key] = value


class PublishTemplatesTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.script = load_script()

    def test_publishes_every_shipped_template(self):
        client = FakeClient()

        published = self.script.publish(client, SHIPPED)

        ids = sorted(f[:-len('.yaml')] for f in os.listdir(SHIPPED)
                     if f.endswith('.yaml'))
        self.assertEqual(ids, published)
        self.assertEqual(
            sorted('/config/v2.0/heat_templates/%s' % i for i in ids),
            sorted(client.puts))

    def test_record_format(self):
        client = FakeClient()
        self.script.publish(client, SHIPPED)

        with open(os.path.join(SHIPPED, 'port.yaml'), encoding='utf-8') as f:
            body = f.read()
        self.assertEqual(
            {'body': {'id': 'port', 'handler': 'heat_worker',
                      'template_file': body, 'parameter_mappings': {},
                      'watch': []},
             'marked_for_deletion': False, 'version': 1},
            client.puts['/config/v2.0/heat_templates/port'])

    def test_the_agent_reads_what_it_publishes(self):
        # The agent's template source, with no template_dir, finds the
        # published body in etcd.
        client = FakeClient()
        self.script.publish(client, SHIPPED)
        source = templates.TemplateSource(client.puts.get, None)

        with open(os.path.join(SHIPPED, 'network.yaml'),
                  encoding='utf-8') as f:
            self.assertEqual(f.read(), source.get('network'))

    def test_options(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'esi-agent.conf')
        with open(path, 'w') as f:
            f.write('[etcd]\nhost = etcd.example.org\nport = 12379\n')

        conf = self.script.parse_args(['--config-file', path,
                                       '--template-dir', '/srv/templates'])

        self.assertEqual('etcd.example.org', conf.etcd.host)
        self.assertEqual(12379, conf.etcd.port)
        self.assertEqual('/srv/templates', conf.template_dir)

    def test_default_template_dir(self):
        conf = self.script.parse_args([])
        self.assertEqual(SHIPPED, conf.template_dir)

    def test_empty_directory_fails(self):
        empty = self.useFixture(fixtures.TempDir()).path
        stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))

        self.assertEqual(1, self.script.main(['--template-dir', empty]))
        self.assertIn('No <template_id>.yaml file in %s' % empty,
                      stderr.getvalue())
