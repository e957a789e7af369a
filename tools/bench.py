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
"""The esi-agent benchmark's driver (tools/bench sets up, then runs this).

One *run* starts a private etcd, the Heat stand-in
(``python -m esi_agent.tests.fakes.heat_api``, which counts every Heat call
and records when each stack operation ends) or uses a real Heat, and one
``esi-agent`` process; casts N jobs through ``AgentAPI``; follows the job
records in etcd with a watch; and measures:

* jobs/s: completed jobs over the time from the first cast to the last
  completion;
* completion latency: stack terminal (the stand-in's clock, or the
  timestamp of Heat's notification) -> the job record with its final
  status seen in etcd (the records and the job's completion are one
  transaction). ``agent_latency`` uses the agent's own completion time
  (``finished_at``, taken just before that transaction) instead;
* Heat calls per completed job, by kind (counted by the stand-in; the
  agent's own count for a real Heat);
* etcd transactions and requests per job (the agent's counters, logged
  when it stops, and etcd's own metrics);
* peak RSS (VmHWM) and CPU seconds of the agent process;
* jobs in flight and stacks in progress over time.

Each run writes ``<name>.json`` and ``<name>.png`` in the results
directory; a set of runs also writes ``summary.json`` and ``summary.png``.
"""

import argparse
import collections
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid

from esi_agent import cmd  # noqa: F401  (threading backend first)

import etcd3gw  # noqa: E402
import oslo_messaging as messaging  # noqa: E402
import requests  # noqa: E402

from esi_agent import conf as esi_conf  # noqa: E402
from esi_agent.heat import stacks as stacks_mod  # noqa: E402
from esi_agent.jobs import store  # noqa: E402
from esi_agent import rpcapi  # noqa: E402
from esi_agent.tests import services  # noqa: E402

CONF = esi_conf.CONF
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
SCENARIO = os.path.join(ROOT, 'etc/esi-agent/demo',
                        'common_function_gateway.json')
TEMPLATE_DIR = os.path.join(ROOT, 'etc/esi-agent/templates')
MAPPING_FILE = os.path.join(ROOT, 'etc/esi-agent/template_mappings.json')
FINAL = set(store.FINAL_STATUSES)
DONE = (store.COMPLETED, store.FAILED)
SAMPLE_INTERVAL = 0.5

AGENT_CONF = '''[DEFAULT]
transport_url = %(transport_url)s
host = %(host)s
debug = false
[agent]
rpc_topic = %(topic)s
reconcile_interval = %(reconcile_interval)s
max_concurrent_jobs = %(max_concurrent_jobs)s
record_writers = %(record_writers)s
[etcd]
host = 127.0.0.1
port = %(etcd_port)s
[heat]
auth_type = none
endpoint_override = %(heat)s
notifications_enabled = %(notifications)s
notifications_topic = %(notifications_topic)s
%(pool)s
batch_status_poll = %(batching)s
[templates]
mapping_file = %(mapping_file)s
template_dir = %(template_dir)s
'''


# The jobs

def scenario_jobs(n, shape):
    """N jobs: copies of the demo scenario, or independent networks.

    ``chains``: the common-function-gateway scenario (network -> subnet ->
    two ports reading their outputs through output_key params, a gateway,
    then a modify of each port), 7 jobs, with fresh resource ids for each
    copy; the last copy is cut short to make N (its jobs depend on earlier
    ones only). ``flat``: N network jobs depending on nothing.
    """
    with open(SCENARIO, encoding='utf-8') as f:
        text = f.read()
    template = json.loads(text)['jobs']
    rids = sorted({j['resource_id'] for j in template})
    jobs = []
    if shape == 'flat':
        network = json.dumps(template[0])
        while len(jobs) < n:
            jobs.append(json.loads(network.replace(template[0]['resource_id'],
                                                   str(uuid.uuid4()))))
        return jobs
    while len(jobs) < n:
        copy = text
        for rid in rids:
            copy = copy.replace(rid, str(uuid.uuid4()))
        jobs.extend(json.loads(copy)['jobs'])
    jobs = jobs[:n]
    seen = set()
    for job in jobs:
        assert set(job['dependency']) <= seen, job['id']
        seen.add(job['id'])
    return jobs


# Processes

def children(pid):
    """The processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return sorted(found)


def proc_stats(pid):
    """RSS, peak RSS (MB) and CPU seconds of a process, from /proc."""
    result = {}
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(('VmRSS:', 'VmHWM:')):
                    key = 'rss_mb' if line.startswith('VmRSS') else 'hwm_mb'
                    result[key] = int(line.split()[1]) / 1024.0
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        ticks = os.sysconf('SC_CLK_TCK')
        result['cpu_s'] = (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, IndexError, ValueError):
        pass
    return result


def machine():
    info = {'nproc': os.cpu_count(), 'python': platform.python_version(),
            'kernel': platform.release(),
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec='seconds')}
    try:
        with open('/proc/cpuinfo') as f:
            models = re.findall(r'^model name\s*:\s*(.*)$', f.read(), re.M)
        info['cpu'] = models[0] if models else platform.processor()
        with open('/proc/meminfo') as f:
            kb = int(re.search(r'MemTotal:\s+(\d+)', f.read()).group(1))
        info['ram_gb'] = round(kb / 1024.0 / 1024.0, 1)
        info['loadavg_before'] = os.getloadavg()
    except (OSError, AttributeError):
        pass
    return info


class StandIn(object):
    """The Heat stand-in as a process of its own."""

    def __init__(self, run_dir, stack_time, notify_url, notify_topic,
                 list_refused=False):
        args = [sys.executable, '-m', 'esi_agent.tests.fakes.heat_api',
                '--port', '0', '--stack-time', str(stack_time)]
        if notify_url:
            args += ['--notify', notify_url, '--notify-topic', notify_topic]
        if list_refused:
            args.append('--list-refused')
        self._log = open(os.path.join(run_dir, 'heat-stand-in.log'), 'wb')
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True)
        self.endpoint = self.proc.stdout.readline().strip()
        if not self.endpoint.startswith('http'):
            raise RuntimeError('the Heat stand-in did not start; see %s'
                               % self._log.name)
        self.admin = self.endpoint.split('/v1/')[0] + '/_fake/'

    def stats(self):
        return requests.get(self.admin + 'stats', timeout=60).json()

    def timeline(self):
        return requests.get(self.admin + 'timeline',
                            timeout=300).json()['timeline']

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class RealHeat(object):
    """A running OpenStack Heat (tools/services/heat)."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def stats(self):
        return None

    def stop(self):
        pass


class Agent(object):
    """One esi-agent: oslo.service's master process and its worker.

    With the threading backend, oslo.service (cotyledon) forks one worker
    process that runs the service; the master only watches it. The
    figures are the worker's (``worker_pid``), the master's given apart.
    """

    def __init__(self, run_dir, name, conf_text):
        self.conf_path = os.path.join(run_dir, name + '.conf')
        self.log_path = os.path.join(run_dir, name + '.log')
        with open(self.conf_path, 'w') as f:
            f.write(conf_text)
        self._log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), 'esi-agent'),
             '--config-file', self.conf_path],
            stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.pid = self.proc.pid

    def wait_serving(self, topic, timeout=60):
        marker = 'serving topic %s' % topic

        def serving():
            if self.proc.poll() is not None:
                raise RuntimeError('esi-agent exited; see %s' % self.log_path)
            with open(self.log_path, errors='replace') as f:
                return marker in f.read()

        services.wait_for(serving, timeout, 0.1, 'esi-agent to serve')
        workers = children(self.pid)
        if len(workers) != 1:
            raise RuntimeError('esi-agent has %d worker processes, not 1'
                               % len(workers))
        self.worker_pid = workers[0]

    def stop(self):
        """Stop it (SIGTERM); returns the counters it logged."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        with open(self.log_path, errors='replace') as f:
            found = re.findall(r'stopped; stats: (\{.*\})', f.read())
        return json.loads(found[-1]) if found else {}


def etcd_metrics(url):
    """etcd's request counters by gRPC method (Txn, Range, Put...)."""
    text = requests.get(url + '/metrics', timeout=30).text
    counts = collections.Counter()
    for method, value in re.findall(
            r'^grpc_server_handled_total\{[^}]*grpc_method="(\w+)"'
            r'[^}]*grpc_service="etcdserverpb\.KV"[^}]*\} (\S+)$', text,
            re.M):
        counts[method] += int(float(value))
    for name in ('sum', 'count'):
        found = re.search(r'^etcd_disk_wal_fsync_duration_seconds_%s (\S+)$'
                          % name, text, re.M)
        counts['fsync_' + name] = float(found.group(1)) if found else 0
    return counts


class JobWatcher(object):
    """Follows the job records in etcd; when each one was taken, finished.

    The job records are watched from the start of the run: a PUT of a
    job's key in PENDING is its intake, one in a final status its
    completion (the records of that transition are in the same revision).
    """

    def __init__(self, etcd_port):
        self._client = etcd3gw.client(host='127.0.0.1', port=etcd_port)
        self.accepted = {}
        self.finished = {}
        self.status = {}
        self.lock = threading.Lock()
        events, self._cancel = self._client.watch_prefix(store.JOBS_PREFIX)
        self._thread = threading.Thread(target=self._run, args=(events,),
                                        daemon=True)
        self._thread.start()

    def _run(self, events):
        try:
            for event in events:
                now = time.time()
                kv = event.get('kv') or {}
                value = kv.get('value')
                if not value:
                    continue
                record = json.loads(value)
                job_id = record['job'].get('id')
                status = record.get('status')
                with self.lock:
                    self.accepted.setdefault(job_id, now)
                    if status in FINAL and job_id not in self.finished:
                        self.finished[job_id] = now
                        self.status[job_id] = status
        except Exception as e:  # the watch ends with an error on cancel
            if not self._cancelled:
                print('bench: the etcd watch failed: %s' % e,
                      file=sys.stderr)

    _cancelled = False

    def counts(self):
        with self.lock:
            return len(self.accepted), len(self.finished)

    def cancel(self):
        self._cancelled = True
        self._cancel()


class HeatTimeline(object):
    """When each stack operation ended, from Heat's own notifications."""

    def __init__(self, transport_url, pool):
        conf = CONF
        self.ended = []
        self.lock = threading.Lock()
        self._transport = messaging.get_notification_transport(
            conf, url=transport_url)
        self._listener = messaging.get_notification_listener(
            self._transport, [messaging.Target(exchange='heat',
                                               topic='notifications')],
            [self], pool=pool)
        self._listener.start()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        if not event_type.endswith(('.end', '.error')):
            return
        stamp = datetime.datetime.strptime(
            metadata['timestamp'], '%Y-%m-%d %H:%M:%S.%f').replace(
                tzinfo=datetime.timezone.utc).timestamp()
        with self.lock:
            self.ended.append({'stack_name': payload.get('stack_name'),
                               'stack_id': payload.get('stack_identity'),
                               'tags': payload.get('tags') or [],
                               'ended_at': stamp,
                               'stack_status': payload.get('state')})

    error = info

    def timeline(self):
        with self.lock:
            return list(self.ended)

    def stop(self):
        self._listener.stop()
        self._listener.wait()
        self._transport.cleanup()


# Statistics

def percentiles(values, points=(50, 95, 99)):
    if not values:
        return {'p%d' % p: None for p in points}
    values = sorted(values)
    result = {}
    for p in points:
        k = (len(values) - 1) * p / 100.0
        lo, hi = int(k), min(int(k) + 1, len(values) - 1)
        result['p%d' % p] = values[lo] + (values[hi] - values[lo]) * (k - lo)
    result['mean'] = statistics.fmean(values)
    result['max'] = values[-1]
    return result


def job_latencies(jobs, records, seen, timeline):
    """Latency of each finished job: its stack's terminal -> completion.

    A job is matched to its stack operation by the job tag the agent put on
    the stack (Heat shows the tags of the operation in progress).
    """
    ended = {}
    for op in timeline:
        if not op.get('ended_at'):
            continue
        for tag in op.get('tags') or ():
            if tag.startswith('esi-job-'):
                ended[tag] = op['ended_at']
    result = []
    for job in jobs:
        record = records.get(job['id'])
        terminal = ended.get(stacks_mod.job_tag(job['id']))
        if (record is None or terminal is None
                or record.get('status') not in DONE):
            continue
        result.append({'job': job['id'], 'terminal': terminal,
                       'seen': seen.get(job['id']),
                       'finished_at': record.get('finished_at')})
    return result


# One run

def run(args, name, notifications, batching, list_refused=False):
    """One agent, N jobs; returns the result dict (also written to JSON)."""
    run_id = uuid.uuid4().hex[:8]
    run_dir = os.path.join(args.results, name)
    os.makedirs(run_dir, exist_ok=True)
    topic = 'esi-bench-%s' % run_id
    notify_topic = 'esi-bench-notifications-%s' % run_id
    queues = []
    print('bench: %s: %d jobs (%s), stack time %s s, notifications %s, '
          'batching %s%s' % (name, args.jobs, args.shape,
                             'real Heat' if args.real_heat
                             else args.stack_time,
                             'on' if notifications else 'off',
                             'on' if batching else 'off',
                             ', lists refused' if list_refused else ''),
          flush=True)
    jobs = scenario_jobs(args.jobs, args.shape)
    host = machine()
    etcd_server = services.EtcdServer().start()
    heat = timeline_listener = agent = watcher = profiler = None
    result = {'name': name, 'jobs': args.jobs, 'shape': args.shape,
              'stack_time': None if args.real_heat else args.stack_time,
              'real_heat': args.real_heat, 'notifications': notifications,
              'batching': batching, 'list_refused': list_refused,
              'reconcile_interval': args.reconcile_interval,
              'max_concurrent_jobs': args.max_concurrent_jobs,
              'record_writers': args.record_writers}
    try:
        if args.real_heat:
            heat = RealHeat(args.heat_endpoint)
            pool = 'esi-bench-agent-%s' % run_id
            timeline_pool = 'esi-bench-timeline-%s' % run_id
            queues += [pool, timeline_pool]
            timeline_listener = HeatTimeline(args.transport_url,
                                             timeline_pool)
            agent_topic, pool_line = 'notifications', 'notifications_pool = '
            pool_line += pool
        else:
            heat = StandIn(run_dir, args.stack_time, args.transport_url,
                           notify_topic, list_refused)
            agent_topic, pool_line = notify_topic, ''
            queues += ['%s.info' % notify_topic, '%s.error' % notify_topic]
        queues += [topic, '%s.%s' % (topic, 'esi-bench-' + run_id)]
        agent = Agent(run_dir, 'esi-agent', AGENT_CONF % {
            'transport_url': args.transport_url,
            'host': 'esi-bench-' + run_id, 'topic': topic,
            'reconcile_interval': args.reconcile_interval,
            'max_concurrent_jobs': args.max_concurrent_jobs,
            'record_writers': args.record_writers,
            'etcd_port': etcd_server.port, 'heat': heat.endpoint,
            'notifications': notifications,
            'notifications_topic': agent_topic, 'pool': pool_line,
            'batching': batching, 'mapping_file': MAPPING_FILE,
            'template_dir': TEMPLATE_DIR})
        agent.wait_serving(topic)
        if args.profile:
            profiler = subprocess.Popen(
                [os.path.join(os.path.dirname(sys.executable), 'py-spy'),
                 'record', '--pid', str(agent.worker_pid),
                 '--rate', '50', '--gil', '--subprocesses',
                 '--format', 'raw', '--nonblocking', '--output',
                 os.path.join(run_dir, 'profile.txt')],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        watcher = JobWatcher(etcd_server.port)
        metrics_before = etcd_metrics(etcd_server.url)
        CONF([], project='esi-agent', default_config_files=[agent.conf_path])
        api = rpcapi.AgentAPI(topic=topic)
        start = time.time()
        samples = []
        sampler_stop = threading.Event()

        def sample():
            while not sampler_stop.is_set():
                accepted, finished = watcher.counts()
                point = {'t': time.time() - start, 'accepted': accepted,
                         'finished': finished,
                         'in_flight': accepted - finished}
                point.update(proc_stats(agent.worker_pid))
                if not args.real_heat:
                    try:
                        stacks = heat.stats()['stacks']
                        point['stacks_in_progress'] = sum(
                            n for status, n in stacks.items()
                            if status.endswith('IN_PROGRESS'))
                    except requests.RequestException:
                        pass
                samples.append(point)
                sampler_stop.wait(SAMPLE_INTERVAL)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for job in jobs:
            api.process_job({}, job)
        cast_time = time.time() - start
        print('bench: %s: %d casts in %.1f s' % (name, len(jobs),
                                                 cast_time), flush=True)
        deadline = time.monotonic() + args.timeout
        next_report = time.monotonic() + 10
        while True:
            accepted, finished = watcher.counts()
            if finished >= len(jobs):
                break
            if time.monotonic() > deadline:
                print('bench: %s: timed out with %d of %d jobs finished'
                      % (name, finished, len(jobs)), file=sys.stderr)
                break
            if time.monotonic() > next_report:
                print('bench: %s: %d taken, %d finished after %.0f s'
                      % (name, accepted, finished, time.time() - start),
                      flush=True)
                next_report += 10
            time.sleep(0.2)
        elapsed_all = time.time() - start
        sampler_stop.set()
        sampler.join()
        usage = proc_stats(agent.worker_pid)
        master_usage = proc_stats(agent.pid)
        others = {'etcd': proc_stats(etcd_server.proc.pid)}
        if not args.real_heat:
            others['heat_stand_in'] = proc_stats(heat.proc.pid)
        loadavg_after = os.getloadavg()
        time.sleep(0.5)
        metrics_after = etcd_metrics(etcd_server.url)
        watcher.cancel()
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            try:
                profiler.wait(60)
            except subprocess.TimeoutExpired:
                profiler.kill()
        heat_stats = heat.stats()
        timeline = (timeline_listener.timeline() if args.real_heat
                    else heat.timeline())
        agent_stats = agent.stop()
        client = etcd3gw.client(host='127.0.0.1', port=etcd_server.port)
        records = {}
        for value, _meta in client.get_prefix(store.JOBS_PREFIX):
            record = json.loads(value)
            records[record['job']['id']] = record
    finally:
        if watcher is not None:
            watcher.cancel()
        if agent is not None and agent.proc.poll() is None:
            agent.stop()
        if timeline_listener is not None:
            timeline_listener.stop()
        if heat is not None:
            heat.stop()
        etcd_server.cleanup()
        if queues:
            try:
                services.delete_queues(queues, args.transport_url)
            except Exception as e:
                print('bench: could not delete queues %s: %s' % (queues, e),
                      file=sys.stderr)

    statuses = collections.Counter(r.get('status') for r in records.values())
    done = [r for r in records.values() if r.get('status') in DONE]
    last_finish = max((r['finished_at'] for r in done), default=start)
    latencies = job_latencies(jobs, records, watcher.finished, timeline)
    seen_lat = [(x['seen'] - x['terminal']) * 1000 for x in latencies
                if x['seen']]
    agent_lat = [(x['finished_at'] - x['terminal']) * 1000
                 for x in latencies if x['finished_at']]
    n_done = len(done)
    result.update({
        'machine': host,
        'statuses': dict(statuses),
        'cast_seconds': round(cast_time, 3),
        'elapsed_seconds': round(last_finish - start, 3),
        'wall_seconds': round(elapsed_all, 3),
        'jobs_per_second': round(n_done / (last_finish - start), 1)
        if n_done else 0,
        'latency_ms': {k: v and round(v, 1)
                       for k, v in percentiles(seen_lat).items()},
        'agent_latency_ms': {k: v and round(v, 1)
                             for k, v in percentiles(agent_lat).items()},
        'latency_samples': len(seen_lat),
        'agent': agent_stats,
        'peak_rss_mb': round(usage.get('hwm_mb', 0), 1),
        'cpu_seconds': round(usage.get('cpu_s', 0), 2),
        'master_peak_rss_mb': round(master_usage.get('hwm_mb', 0), 1),
        'master_cpu_seconds': round(master_usage.get('cpu_s', 0), 2),
        'etcd_metrics': {k: metrics_after[k] - metrics_before.get(k, 0)
                         for k in metrics_after},
        'others_cpu_seconds': {k: round(v.get('cpu_s', 0), 2)
                               for k, v in others.items()},
        'loadavg_after': loadavg_after,
        'samples': samples,
        'latencies': [(round(x['seen'] - start, 3),
                       round((x['seen'] - x['terminal']) * 1000, 1))
                      for x in latencies if x['seen']],
    })
    if n_done:
        result['etcd_txns_per_job'] = round(
            agent_stats.get('etcd_txns', 0) / n_done, 2)
        result['etcd_requests_per_job'] = round(
            agent_stats.get('etcd_requests', 0) / n_done, 2)
        result['heat_calls_per_job_agent'] = round(
            agent_stats.get('heat_calls', 0) / n_done, 3)
    fsyncs = result['etcd_metrics'].get('fsync_count')
    if fsyncs:
        result['etcd_fsync_mean_ms'] = round(
            1000 * result['etcd_metrics']['fsync_sum'] / fsyncs, 2)
    if heat_stats is not None:
        calls = heat_stats['calls']
        result['heat_calls'] = calls
        result['notifications_sent'] = heat_stats.get('notifications_sent')
        if n_done:
            result['heat_calls_per_job'] = round(
                sum(calls.values()) / n_done, 3)
            result['heat_calls_per_job_by_kind'] = {
                k: round(v / n_done, 3) for k, v in sorted(calls.items())}
    if profiler is not None:
        result['profile'] = summarise_profile(
            os.path.join(run_dir, 'profile.txt'))
    with open(os.path.join(args.results, name + '.json'), 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True)
    plot_run(result, os.path.join(args.results, name + '.png'))
    print_result(result)
    return result


# py-spy profiles

def summarise_profile(path, top=25):
    """Inclusive and self sample counts by function of a py-spy raw file."""
    inclusive = collections.Counter()
    own = collections.Counter()
    total = 0
    try:
        with open(path) as f:
            lines = f.readlines()
    except OSError:
        return None
    for line in lines:
        stack, _, count = line.rstrip('\n').rpartition(' ')
        if not stack or not count.isdigit():
            continue
        count = int(count)
        total += count
        frames = [re.sub(r':\d+\)$', ')', frame)
                  for frame in stack.split(';')]
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    return {'samples': total,
            'inclusive': [(f, round(100.0 * n / total, 1))
                          for f, n in inclusive.most_common(top)]
            if total else [],
            'self': [(f, round(100.0 * n / total, 1))
                     for f, n in own.most_common(top)] if total else []}


# Output

def print_result(r):
    lat, alat = r['latency_ms'], r['agent_latency_ms']
    print('bench: %s: %s in %.1f s, %.1f jobs/s; latency p50/p95/p99 '
          '%s/%s/%s ms (agent clock %s/%s/%s); Heat calls/job %s %s; '
          'etcd txns/job %s; peak RSS %.0f MB; CPU %.1f s'
          % (r['name'], r['statuses'], r['elapsed_seconds'],
             r['jobs_per_second'], lat['p50'], lat['p95'], lat['p99'],
             alat['p50'], alat['p95'], alat['p99'],
             r.get('heat_calls_per_job', r.get('heat_calls_per_job_agent')),
             r.get('heat_calls_per_job_by_kind', ''),
             r.get('etcd_txns_per_job'), r['peak_rss_mb'],
             r['cpu_seconds']), flush=True)


def plot_run(r, path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        from matplotlib import pyplot
    except ImportError:
        print('bench: no matplotlib, no plot', file=sys.stderr)
        return
    fig, (ax1, ax2, ax3) = pyplot.subplots(3, 1, figsize=(8, 8.5),
                                           sharex=True)
    t = [s['t'] for s in r['samples']]
    ax1.plot(t, [s['in_flight'] for s in r['samples']],
             label='jobs in flight (agent)')
    if any('stacks_in_progress' in s for s in r['samples']):
        ax1.plot(t, [s.get('stacks_in_progress', 0) for s in r['samples']],
                 label='stacks in progress (Heat)')
    ax1.set_ylabel('count')
    ax1.legend(loc='upper right', fontsize=8)
    ax1.set_title('%s: %d jobs, %s' % (r['name'], r['jobs'], describe(r)),
                  fontsize=10)
    if r['latencies']:
        ax2.scatter([x for x, _ in r['latencies']],
                    [max(y, 0.1) for _, y in r['latencies']], s=2)
        ax2.set_yscale('log')
    ax2.set_ylabel('completion latency (ms)')
    ax3.plot(t, [s.get('rss_mb', 0) for s in r['samples']], label='RSS MB')
    ax3.set_ylabel('agent RSS (MB)')
    ax3.set_xlabel('seconds since the first cast')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    pyplot.close(fig)


def describe(r):
    return '%s, notifications %s, batching %s' % (
        'real Heat' if r['real_heat']
        else 'stack time %ss' % r['stack_time'],
        'on' if r['notifications'] else 'off',
        'on' if r['batching'] else 'off')


def plot_summary(results, path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        from matplotlib import pyplot
    except ImportError:
        return
    fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(11, 4))
    for r in results:
        lat = sorted(y for _, y in r['latencies'])
        if lat:
            ax1.plot([max(v, 0.1) for v in lat],
                     [100.0 * (i + 1) / len(lat) for i in range(len(lat))],
                     label=r['name'])
        ax2.plot([s['t'] for s in r['samples']],
                 [s['in_flight'] for s in r['samples']], label=r['name'])
    ax1.set_xscale('log')
    ax1.set_xlabel('completion latency (ms), stack terminal -> record')
    ax1.set_ylabel('% of jobs')
    ax1.legend(fontsize=7)
    ax2.set_xlabel('seconds since the first cast')
    ax2.set_ylabel('jobs in flight')
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    pyplot.close(fig)


def summary_row(r):
    return {'name': r['name'], 'jobs': r['jobs'], 'shape': r['shape'],
            'stack_time': r['stack_time'],
            'notifications': r['notifications'], 'batching': r['batching'],
            'jobs_per_second': r['jobs_per_second'],
            'latency_ms': r['latency_ms'],
            'heat_calls_per_job': r.get('heat_calls_per_job',
                                        r.get('heat_calls_per_job_agent')),
            'heat_calls_per_job_by_kind': r.get(
                'heat_calls_per_job_by_kind'),
            'etcd_txns_per_job': r.get('etcd_txns_per_job'),
            'peak_rss_mb': r['peak_rss_mb'], 'cpu_seconds': r['cpu_seconds'],
            'statuses': r['statuses']}


def on_off(text):
    values = []
    for item in text.split(','):
        if item not in ('on', 'off'):
            raise argparse.ArgumentTypeError('on, off or on,off')
        values.append(item == 'on')
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='tools/bench', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--jobs', type=int, default=1000,
                        help='jobs to cast (default 1000)')
    parser.add_argument('--shape', choices=('chains', 'flat'),
                        default='chains',
                        help='chains: copies of the demo scenario (network '
                             '-> subnet -> ports with output_key params '
                             '-> modifies); flat: independent networks')
    parser.add_argument('--stack-time', type=float, default=5.0,
                        help='seconds a stack operation takes in the '
                             'stand-in (default 5)')
    parser.add_argument('--notifications', type=on_off, default=[True, False],
                        help='on, off or on,off (default: both)')
    parser.add_argument('--batching', type=on_off, default=[True, False],
                        help='[heat] batch_status_poll: on, off or on,off '
                             '(default: both)')
    parser.add_argument('--list-refused', action='store_true',
                        help='the stand-in refuses stack lists (measures '
                             'the per-stack fallback)')
    parser.add_argument('--reconcile-interval', type=float, default=2.0)
    parser.add_argument('--max-concurrent-jobs', type=int, default=16)
    parser.add_argument('--record-writers', type=int, default=8)
    parser.add_argument('--real-heat', action='store_true',
                        help='against the Heat at --heat-endpoint')
    parser.add_argument('--heat-endpoint',
                        default=os.environ.get('ESI_HEAT_ENDPOINT'))
    parser.add_argument('--transport-url',
                        default=os.environ.get('ESI_TRANSPORT_URL',
                                               services.TRANSPORT_URL))
    parser.add_argument('--results', default=os.path.join(
        ROOT, 'bench-results',
        datetime.datetime.now().strftime('%Y%m%d-%H%M%S')))
    parser.add_argument('--label', default='',
                        help='prefix of the run names')
    parser.add_argument('--timeout', type=float, default=1800,
                        help='seconds a run may take (default 1800)')
    parser.add_argument('--profile', action='store_true',
                        help='record a py-spy profile of the agent')
    args = parser.parse_args(argv)
    if args.real_heat and not args.heat_endpoint:
        parser.error('--real-heat needs --heat-endpoint or '
                     'ESI_HEAT_ENDPOINT')
    return args


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.results, exist_ok=True)
    if shutil.which('etcd') is None:
        sys.exit('bench: etcd not found (tools/ensure-services installs it)')
    results = []
    prefix = args.label + '-' if args.label else ''
    for notifications in args.notifications:
        for batching in args.batching:
            name = '%s%s-%d-notif-%s-batch-%s%s' % (
                prefix, 'heat' if args.real_heat else args.shape,
                args.jobs, 'on' if notifications else 'off',
                'on' if batching else 'off',
                '-lists-refused' if args.list_refused else '')
            results.append(run(args, name, notifications, batching,
                               args.list_refused))
    summary = {'machine': machine(), 'argv': sys.argv[1:],
               'runs': [summary_row(r) for r in results]}
    with open(os.path.join(args.results, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    if len(results) > 1:
        plot_summary(results, os.path.join(args.results, 'summary.png'))
    print('bench: results in %s' % args.results)
    return 0


if __name__ == '__main__':
    sys.exit(main())
