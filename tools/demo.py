#!/usr/bin/env python3
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
"""The demo's driver (tools/demo starts the services, then runs this).

Publishes the demo templates to etcd, starts an esi-agent process, casts
the demo scenario through AgentAPI, shows each job as it finishes, prints
the three records of the seed port and stops the agent.
"""

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import time

from esi_agent import cmd  # noqa: F401  (threading backend first)

from oslo_context import context as oslo_context  # noqa: E402
from oslo_messaging import conffixture  # noqa: E402

from esi_agent import conf as esi_conf  # noqa: E402
from esi_agent import etcd  # noqa: E402
from esi_agent.jobs import store  # noqa: E402
from esi_agent import records  # noqa: E402
from esi_agent import rpcapi  # noqa: E402

CONF = esi_conf.CONF
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
SEED_PORT = ('port', 'f84496b5-dc56-4727-87b1-aa06e2471737')
TEMPLATE_KEY = '/config/v2.0/heat_templates/%s'

AGENT_CONF = '''[DEFAULT]
transport_url = %(transport_url)s
host = esi-agent-demo
debug = %(debug)s
[agent]
rpc_topic = %(topic)s
reconcile_interval = 0.5
[etcd]
host = 127.0.0.1
port = %(etcd_port)s
[heat]
auth_type = none
endpoint_override = %(heat)s
[templates]
mapping_file = %(root)s/etc/esi-agent/template_mappings.json
template_dir = %(root)s/etc/esi-agent/templates
'''


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--etcd-port', type=int, required=True)
    parser.add_argument('--heat-endpoint', required=True)
    parser.add_argument('--transport-url',
                        default='rabbit://guest:guest@127.0.0.1:5672/')
    parser.add_argument('--run-dir', required=True)
    parser.add_argument('--scenario', default=os.path.join(
        ROOT, 'etc/esi-agent/demo/common_function_gateway.json'))
    parser.add_argument('--timeout', type=float, default=300)
    parser.add_argument('--debug', action='store_true')
    return parser.parse_args()


def publish_templates(client):
    paths = sorted(glob.glob(os.path.join(ROOT, 'etc/esi-agent/templates',
                                          '*.yaml')))
    for path in paths:
        template_id = os.path.basename(path)[:-len('.yaml')]
        with open(path, encoding='utf-8') as f:
            body = f.read()
        client.put(TEMPLATE_KEY % template_id, {
            'body': {'id': template_id, 'handler': 'heat_worker',
                     'template_file': body, 'parameter_mappings': {},
                     'watch': []},
            'marked_for_deletion': False, 'version': 1})
    print('Published %d templates to etcd %s' % (
        len(paths), TEMPLATE_KEY % '<id>'))


def start_agent(args, topic):
    conf_path = os.path.join(args.run_dir, 'esi-agent-demo.conf')
    log_path = os.path.join(args.run_dir, 'esi-agent-demo.log')
    with open(conf_path, 'w') as f:
        f.write(AGENT_CONF % {
            'transport_url': args.transport_url, 'topic': topic,
            'etcd_port': args.etcd_port, 'heat': args.heat_endpoint,
            'root': ROOT, 'debug': args.debug})
    log = open(log_path, 'wb')
    proc = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), 'esi-agent'),
         '--config-file', conf_path],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    marker = 'serving topic %s' % topic
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(log_path, errors='replace') as f:
            if marker in f.read():
                print('esi-agent started (pid %d), log: %s' % (
                    proc.pid, log_path))
                return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    stop_agent(proc)
    sys.exit('esi-agent did not start; see %s' % log_path)


def stop_agent(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def describe(job):
    return '%-14s %-24s %s v%d' % (job['action'], job['resource_type'],
                                   job['resource_id'], job['version'])


def follow(client, jobs, timeout):
    """Print each job as it finishes; return {job id: status}."""
    start = time.monotonic()
    done = {}
    while len(done) < len(jobs) and time.monotonic() - start < timeout:
        for job in jobs:
            if job['id'] in done:
                continue
            record = client.get_json(store.job_key(job['id']))
            if record and record['status'] in store.FINAL_STATUSES:
                done[job['id']] = record['status']
                state = client.get_json(records.state_key(
                    job['resource_type'], job['resource_id'])) or {}
                line = '[%6.1fs] %-10s %s' % (
                    time.monotonic() - start, record['status'],
                    describe(job))
                if record.get('error'):
                    line += '\n           error: %s' % record['error']
                elif state.get('state', {}).get('orchestration_state'):
                    line += '  (%s)' % state['state']['orchestration_state']
                print(line, flush=True)
        time.sleep(0.2)
    return done


def print_seed_records(client, jobs):
    """The seed port's records as its create wrote them, then its state."""
    create = [j for j in jobs if (j['resource_type'], j['resource_id'])
              == SEED_PORT and j['action'] == 'create'][0]
    kv = client.get(store.job_key(create['id']))
    print()
    print('The three records of %s %s written by its create (etcd revision '
          '%s; compare seed-port-records.md):' % (SEED_PORT + (
              kv.mod_revision if kv else '?',)))
    for key in (records.heat_stacks_key(*SEED_PORT),
                records.job_state_key(*SEED_PORT),
                records.state_key(*SEED_PORT)):
        value = client.get_json(key, kv.mod_revision) if kv else None
        print(key)
        print(json.dumps(value, indent=4))
    state = client.get_json(records.state_key(*SEED_PORT)) or {}
    print('Now, after the modify that attached it: %s version %s' % (
        state.get('state', {}).get('worker_state'), state.get('version')))


def main():
    args = parse_args()
    with open(args.scenario, encoding='utf-8') as f:
        scenario = json.load(f)
    jobs = scenario['jobs']
    CONF([], project='esi-agent', default_config_files=[])
    messaging = conffixture.ConfFixture(CONF)
    messaging.setUp()
    messaging.transport_url = args.transport_url
    CONF.set_override('port', args.etcd_port, group='etcd')
    topic = 'esi-agent-demo-%d' % os.getpid()
    CONF.set_override('rpc_topic', topic, group='agent')
    client = etcd.EtcdClient(CONF)

    print(scenario.get('description', ''))
    publish_templates(client)
    proc = start_agent(args, topic)
    try:
        api = rpcapi.AgentAPI()
        context = oslo_context.RequestContext()
        for job in jobs:
            api.process_job(context, job)
        print('Cast %d jobs to topic %s; waiting for them:' % (
            len(jobs), topic))
        done = follow(client, jobs, args.timeout)
    finally:
        stop_agent(proc)
    print_seed_records(client, jobs)
    failed = [j for j in jobs if done.get(j['id']) != store.COMPLETED]
    if failed:
        print('%d of %d jobs did not complete' % (len(failed), len(jobs)))
        return 1
    print('All %d jobs completed.' % len(jobs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
