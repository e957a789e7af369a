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
"""Template bodies kept in memory, against a real etcd: a body published
while the agent runs is the one the next jobs render."""

import fixtures

from esi_agent import etcd
from esi_agent.render import templates
from esi_agent.tests import base as tests_base
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services

KEY = templates.ETCD_PREFIX + 'network'


def record(body, marked_for_deletion=False):
    return {'body': {'id': 'network', 'handler': 'heat_worker',
                     'template_file': body, 'parameter_mappings': {},
                     'watch': []},
            'marked_for_deletion': marked_for_deletion, 'version': 1}


def network_body(label):
    """The network template, with a description naming its version."""
    return jobs.NETWORK_TEMPLATE.replace(
        'parameters:', 'description: %s\nparameters:' % label, 1)


class TestPrefixStat(tests_base.TestCase):
    """EtcdClient.prefix_stat, which tells the cache that etcd changed."""

    def setUp(self):
        super().setUp()
        server = services.shared_etcd()
        server.wipe()
        self.config(host='127.0.0.1', port=server.port, group='etcd')
        self.client = etcd.EtcdClient(tests_base.CONF)

    def test_any_change_under_the_prefix_changes_the_stat(self):
        stat = self.client.prefix_stat
        self.assertEqual((0, 0), stat('/p/'))
        for name in ('a', 'b', 'c'):
            self.client.put('/p/' + name, 'x')
        self.client.put('/p0', 'outside the prefix')
        seen = [stat('/p/')]
        self.assertEqual(3, seen[-1][0])
        self.client.put('/p/a', 'y')              # put to an older key
        seen.append(stat('/p/'))
        self.client.delete('/p/b')                # a delete alone
        seen.append(stat('/p/'))
        self.client.delete('/p/c')
        self.client.put('/p/d', 'z')              # delete + put: same count
        seen.append(stat('/p/'))
        self.assertEqual(len(seen), len(set(seen)), seen)
        self.assertEqual([3, 3, 2, 2], [count for count, _rev in seen])
        self.client.put('/other', 'x')
        self.assertEqual(seen[-1], stat('/p/'))


class TestPublishedTemplates(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        # The port template comes from files; network from etcd.
        self.template_dir = self.useFixture(fixtures.TempDir()).path
        jobs.write_templates(self.template_dir)
        self.config(template_dir=self.template_dir, group='templates')

    def rendered(self, job):
        """The template Heat received for a job's stack."""
        name = '%s_%s' % (job['resource_type'], job['resource_id'])
        ops = [op for op in self.heat.operations if op.stack_name == name]
        self.assertEqual(1, len(ops), ops)
        return ops[0].template

    def run_network(self):
        net = jobs.network()
        self.cast(net)
        self.assertEqual({net['id']: 'COMPLETED'},
                         self.wait_final([net['id']]))
        return self.rendered(net)

    def test_next_job_renders_the_published_body(self):
        agent = self.start_agent()
        self.etcd.put(KEY, record(network_body('v1')))
        services.wait_for(
            lambda: 'v1' in agent.manager.templates.get('network'),
            what='the agent to see v1')
        self.assertIn('description: v1', self.run_network())

        self.etcd.put(KEY, record(network_body('v2')))
        # Within [templates] refresh_interval of the publication.
        services.wait_for(
            lambda: 'v2' in agent.manager.templates.get('network'),
            what='the agent to see v2')
        self.assertIn('description: v2', self.run_network())

    def test_checked_at_every_render(self):
        # refresh_interval = 0: each render checks etcd, so a change made
        # before a job is cast is the one it renders, without waiting.
        self.config(refresh_interval=0, group='templates')
        self.start_agent()
        self.etcd.put(KEY, record(network_body('v1')))
        self.assertIn('description: v1', self.run_network())
        self.etcd.put(KEY, record(network_body('v2')))
        self.assertIn('description: v2', self.run_network())
        # Marked for deletion, then deleted: the file in template_dir.
        self.etcd.put(KEY, record(network_body('v3'), True))
        self.assertNotIn('description: v', self.run_network())
        self.etcd.put(KEY, record(network_body('v4')))
        self.assertIn('description: v4', self.run_network())
        self.etcd.delete(KEY)
        self.assertNotIn('description: v', self.run_network())
