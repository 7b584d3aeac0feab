#!/usr/bin/env python3
"""report.py - bench/run's figures into bench/results.

    report.py WORKDIR RESULTS STAMP NOTE

Each part of a run (load, engine, callgrind) becomes a section file,
RESULTS/SECTION.json, with its own date, machine and load average;
latest.json merges the newest file of each section and latest.md shows it
as Markdown tables; history.jsonl gets one line per run.
"""
import json
import os
import re
import statistics
import sys

TARGETS = {
    'ordinary_vs_accept_all': 0.98,
    'relay_vs_accept_all': 0.90,
    'engine_msg_per_cpu_s': 5000,
    'kb_per_connection': 1024,
    'mb_for_200_idle': 200,
}
CONFIGS = [
    ('none', 'Postfix, no milter'),
    ('accept-all', 'accept-all milter (the floor)'),
    ('ordinary', 'relaygate, ordinary recipients'),
    ('relay', 'relaygate, buyer relay recipients (corpus mix)'),
    ('monitor', 'relaygate in monitor mode, same relay mix (judged, all delivered)'),
]


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ''


def load_section(work):
    runs = []
    try:
        with open(os.path.join(work, 'runs.tsv')) as f:
            for line in f:
                p = line.rstrip('\n').split('\t')
                if len(p) < 12:
                    continue
                runs.append({
                    'round': int(p[0]), 'config': p[1], 'sent': int(p[2]),
                    'processed': int(p[3]), 'delivered': int(p[4]),
                    'rejected': int(p[5]), 'discarded': int(p[6]),
                    'held': int(p[7]), 'tempfail': int(p[8]),
                    'elapsed_s': float(p[9]), 'smtp_elapsed_s': float(p[10]),
                    'milter_cpu_ticks': int(p[11]),
                })
    except OSError:
        return None
    if not runs:
        return None
    params = read_json(os.path.join(work, 'load.json')) or {}
    tck = params.get('clk_tck', 100)
    for r in runs:
        r['msg_per_s'] = r['processed'] / r['elapsed_s'] if r['elapsed_s'] else 0
        r['milter_cpu_s_per_1000'] = (r['milter_cpu_ticks'] / tck * 1000 / r['processed']
                                      if r['processed'] and r['config'] != 'none' else None)
    floor = {r['round']: r['msg_per_s'] for r in runs if r['config'] == 'accept-all'}
    configs = {}
    for key, label in CONFIGS:
        mine = [r for r in runs if r['config'] == key]
        if not mine:
            continue
        rates = [r['msg_per_s'] for r in mine]
        ratios = [r['msg_per_s'] / floor[r['round']] for r in mine
                  if floor.get(r['round'])]
        cpu = [r['milter_cpu_s_per_1000'] for r in mine
               if r['milter_cpu_s_per_1000'] is not None]
        configs[key] = {
            'label': label,
            'runs': len(mine),
            'msg_per_s_median': statistics.median(rates),
            'msg_per_s_runs': [round(x, 1) for x in rates],
            'ratio_to_accept_all_median': statistics.median(ratios) if ratios else None,
            'milter_cpu_s_per_1000_median': statistics.median(cpu) if cpu else None,
            'processed': sum(r['processed'] for r in mine),
            'rejected': sum(r['rejected'] for r in mine),
            'discarded': sum(r['discarded'] for r in mine),
            'tempfail': sum(r['tempfail'] for r in mine),
        }
    section = {'params': params, 'configs': configs, 'runs': runs,
               'memory': read_json(os.path.join(work, 'memory.json')),
               'idle': read_json(os.path.join(work, 'idle.json'))}
    idle_derived(section['idle'])
    return section


def idle_derived(idle):
    """per-session cost: the dearest of the three states"""
    if idle and idle.get('sessions'):
        n = idle['sessions']
        delta_kb = max(idle[k] for k in ('rss_connected_kb', 'rss_in_message_kb',
                                         'rss_after_message_kb')) - idle['rss_before_kb']
        idle['kb_per_connection'] = max(delta_kb, 0) / n
        idle['mb_for_200'] = max(delta_kb, 0) / n * 200 / 1024


def engine_section(work):
    data = read_json(os.path.join(work, 'engine.json'))
    if data is None:
        return None
    for k in ('sizes', 'phrases'):
        data.pop(k, None)
    return data


def scaling_section(work):
    """the size and phrase-count checks (bench/run --engine): a section of
    their own, so that a later default run keeps them in latest.md"""
    data = read_json(os.path.join(work, 'engine.json'))
    if data is None or not ('sizes' in data or 'phrases' in data):
        return None
    return {k: data[k] for k in ('corpus', 'messages', 'sizes', 'phrases') if k in data}


def callgrind_section(work):
    total = read_text(os.path.join(work, 'callgrind.total'))
    msgs = read_text(os.path.join(work, 'callgrind.msgs'))
    m = re.search(r'Collected : (\d+)', total)
    n = re.search(r'messages=(\d+)', msgs)
    if not m or not n:
        return None
    ir, count = int(m.group(1)), int(n.group(1))
    # inclusive cost of the stages and rule families, per message
    wanted = [
        ('build_view', 'view build: MIME parse, decode, HTML, NFKC'),
        ('g_mime_parser_construct_message', '  of which GMime parsing'),
        ('rg_html_render', '  of which HTML to text'),
        ('rg_scan_view', 'rules, all together'),
        ('rg_rules_phrases', '  phrases (incl. normalisation)'),
        ('rg_normalize', '    of which normalisation'),
        ('rg_rules_language', '  language'),
        ('textcat_ClassifyFull', '    of which libexttextcat'),
        ('rg_rules_spelling', '  spelling'),
        ('rg_rules_contact', '  contact (e-mail, phone)'),
        ('rg_rules_links', '  links'),
        ('rg_rules_emoji', '  emoji'),
        ('rg_rules_attachments', '  attachments'),
        ('rg_rules_structure', '  structure'),
        ('rg_rules_layout', '  layout'),
        ('rg_rules_order_id', '  order-id'),
        ('pcre2_match_8', 'PCRE2 matching, every caller'),
    ]
    found = {}
    for line in read_text(os.path.join(work, 'callgrind.incl')).splitlines():
        mm = re.match(r'\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:(\w+)[ \[\']', line)
        if mm and mm.group(2) not in found:
            found[mm.group(2)] = int(mm.group(1).replace(',', ''))
    stages = [{'function': f, 'label': label, 'per_message': found[f] / count,
               'share': found[f] / ir}
              for f, label in wanted if f in found]
    return {'instructions': ir, 'messages': count,
            'instructions_per_message': ir / count, 'stages': stages,
            'self': read_text(os.path.join(work, 'callgrind.self')).splitlines(),
            'jit_note': 'PCRE2 JIT code shows as ??? (no symbols); it is counted all the same'}


def fmt(x, nd=0):
    if x is None:
        return '-'
    return f'{x:,.{nd}f}'


def verdict(ok):
    return 'met' if ok else '**not met**'


def targets(latest):
    out = []
    load = latest.get('load')
    if load:
        c = load['configs']
        if 'ordinary' in c and c['ordinary']['ratio_to_accept_all_median'] is not None:
            v = c['ordinary']['ratio_to_accept_all_median']
            out.append(('Ordinary mail >= 98% of accept-all', f'{v:.0%}',
                        v >= TARGETS['ordinary_vs_accept_all']))
        if 'relay' in c and c['relay']['ratio_to_accept_all_median'] is not None:
            v = c['relay']['ratio_to_accept_all_median']
            out.append(('Relay mix >= 90% of accept-all', f'{v:.0%}',
                        v >= TARGETS['relay_vs_accept_all']))
        idle = load.get('idle')
        idle_derived(idle)
        if idle and 'kb_per_connection' in idle:
            v = idle['kb_per_connection']
            out.append(('Milter memory <= 1 MB per connection', f'{v:.0f} KB',
                        v <= TARGETS['kb_per_connection']))
            v = idle['mb_for_200']
            out.append(('200 idle connections < 200 MB', f'{v:.1f} MB',
                        v < TARGETS['mb_for_200_idle']))
    eng = latest.get('engine')
    if eng:
        v = eng['throughput']['msg_per_cpu_s']
        out.append(('Engine >= 5,000 msg/s per core (corpus mix)', f'{v:,.0f} msg/s',
                    v >= TARGETS['engine_msg_per_cpu_s']))
    return out


def machine_line(sec):
    m = sec.get('machine', {})
    return (f"{sec.get('date', '?')}; {m.get('nproc', '?')} cores, {m.get('cpu', '?')}, "
            f"{m.get('mem_mb', '?')} MB, {m.get('os', '?')}, kernel {m.get('kernel', '?')}; "
            f"load average before the run: {sec.get('loadavg_before', '?')} "
            f"(after: {sec.get('loadavg_after', '?')}, which counts the "
            f"benchmark's own processes)"
            + (f"; note: {sec['note']}" if sec.get('note') else ''))


def markdown(latest):
    md = ['# relaygate benchmark: latest results', '',
          'Made by `bench/run` (see bench/run --help).  Each section was '
          'measured at the date shown, on the machine shown; the load '
          'average tells whether other work shared the CPU.', '']
    t = targets(latest)
    if t:
        md += ['## Targets', '', '| target | measured | |', '|---|---:|---|']
        md += [f'| {a} | {b} | {verdict(c)} |' for a, b, c in t]
        md.append('')
    load = latest.get('load')
    if load:
        p = load['params']
        md += ['## Load test: Postfix end to end', '',
               f'Measured {machine_line(load)}.', '',
               f"{p.get('messages')} messages per run, {p.get('rounds')} runs "
               f"of each configuration alternating, {p.get('sessions')} "
               f"concurrent SMTP sessions (a new one per message), milters "
               f"on {p.get('transport')} sockets; the {p.get('files')} "
               f"messages of {p.get('corpus')}.  msg/s from the first "
               'message sent until the queue is empty (delivered, or '
               'rejected: rejected messages are work done); ratio: the '
               'median of each run against the accept-all run of its round.'
               + ('  **The relay runs were recorded with perf (--perf) and are '
                  'slower than they would be.**' if p.get('perf') else ''),
               '',
               '| configuration | msg/s (median) | runs | ratio to accept-all '
               '| milter CPU s / 1,000 msgs | rejected | failed (4xx) |',
               '|---|---:|---|---:|---:|---:|---:|']
        for key, _ in CONFIGS:
            c = load['configs'].get(key)
            if not c:
                continue
            r = c['ratio_to_accept_all_median']
            md.append(f"| {c['label']} | {fmt(c['msg_per_s_median'])} | "
                      f"{', '.join(fmt(x) for x in c['msg_per_s_runs'])} | "
                      f"{'-' if r is None else f'{r:.0%}'} | "
                      f"{fmt(c['milter_cpu_s_per_1000_median'], 2)} | "
                      f"{c['rejected']} | {c['tempfail']} |")
        mem, idle = load.get('memory'), load.get('idle')
        md.append('')
        if mem:
            md.append(f"Peak RSS (VmHWM) over the whole test: relaygate-milter "
                      f"{mem['relaygate_kb']['hwm'] / 1024:.1f} MB, accept-all "
                      f"{mem['accept_all_kb']['hwm'] / 1024:.1f} MB.")
        if idle:
            b = idle['rss_before_kb']
            md.append(f"Memory check: {idle['sessions']} SMTP sessions held "
                      f"open through Postfix to a second, fresh "
                      f"relaygate-milter ({idle['milter_sockets'][1] - idle['milter_sockets'][0]}"
                      f" milter connections; {idle.get('client', '')}).  RSS "
                      f"{b / 1024:.1f} MB before (one message judged: "
                      f"dictionaries loaded); per session: "
                      f"{(idle['rss_connected_kb'] - b) / idle['sessions']:.1f} KB "
                      f"after EHLO, "
                      f"{(idle['rss_in_message_kb'] - b) / idle['sessions']:.1f} KB "
                      f"after MAIL FROM and RCPT TO a relay address, "
                      f"{(idle['rss_after_message_kb'] - b) / idle['sessions']:.1f} KB "
                      f"after one message judged on each (session kept): "
                      f"{idle.get('mb_for_200', 0):.1f} MB for 200.")
        md.append('')
    eng = latest.get('engine')
    if eng:
        tp = eng['throughput']
        md += ['## Engine alone (bench/engine)', '',
               f'Measured {machine_line(eng)}.', '',
               f"{eng['messages']} messages ({eng['mean_bytes']:.0f} bytes on "
               f"average) from {eng['corpus']}, repeated, "
               f"{tp['threads']} thread(s); as relaygate-milter scans them "
               '(envelope set, no order store).', '',
               '| msg/s (wall) | MB/s | msg per CPU-second (per core) | CPU us/msg |',
               '|---:|---:|---:|---:|',
               f"| {fmt(tp['msg_per_s'])} | {tp['mb_per_s']:.2f} | "
               f"{fmt(tp['msg_per_cpu_s'])} | {fmt(tp['cpu_us_per_msg'])} |", '']
        st = eng.get('stages_us_per_msg')
        if st:
            names = {
                'scan': 'whole scan (rg_scan_message)',
                'mime_parse': 'MIME parse (GMime)',
                'view_build': 'view build: parse, decode, HTML, NFKC',
                'html_render': '&nbsp;&nbsp;of which HTML to text',
                'normalisation': 'normalisation (phrase folding; part of phrases)',
            }
            md += ['Per stage (microseconds per message, median of passes, '
                   'thread CPU time):', '', '| stage | us/msg | share |', '|---|---:|---:|']
            for k, v in st.items():
                label = names.get(k, 'rules: ' + k.replace('_', '-'))
                md.append(f"| {label} | {v:.1f} | {100 * v / st['scan']:.0f}% |")
            md.append('')
    scal = latest.get('scaling')
    if scal:
        md += ['## Scaling checks (bench/run --engine)', '',
               f'Measured {machine_line(scal)}.', '']
        sizes = scal.get('sizes')
        if sizes:
            md += ['Cost against message size (synthetic seller text with '
                   'order ids, links and phone-like numbers; text limit '
                   'raised for the test; CPU time):', '',
                   '| kind | size | ms/msg | us/KB | per KB vs cheapest smaller (from 16 KB) '
                   '| view build ms | phrases ms | language ms | spelling ms |',
                   '|---|---:|---:|---:|---:|---:|---:|---:|---:|']
            for s in sizes:
                st = s['stages_us']
                md.append(f"| {s['kind']} | {s['bytes'] / 1024:,.0f} KB | "
                          f"{s['us_per_msg'] / 1000:,.2f} | {s['us_per_kb']:.2f} | "
                          f"{s['growth']:.2f}x"
                          f"{' **super-linear?**' if s['super_linear'] else ''} | "
                          f"{st['view_build'] / 1000:.2f} | {st['phrases'] / 1000:.2f} | "
                          f"{st['language'] / 1000:.2f} | {st['spelling'] / 1000:.2f} |")
            md.append('')
            if any(s['kind'] == 'html' and s['bytes'] > 8 << 20 for s in sizes):
                md += ['The 10 MB HTML message has more elements than '
                       'limits.max_html_elements allows (50,000 by default): '
                       'the rest of it is not rendered (an "uncheckable" '
                       'finding), hence its lower cost per KB.', '']
        ph = scal.get('phrases')
        if ph:
            md += ['Cost against the number of phrase patterns (corpus mix; '
                   'generated lists replace the shipped ones):', '',
                   '| lists | patterns | policy build ms | phrase rules us/msg '
                   '| whole scan us/msg |', '|---|---:|---:|---:|---:|']
            for r in ph:
                md.append(f"| {r['lists']} | {r['patterns']:,} | {r['build_ms']:.0f} | "
                          f"{r['phrases_us_per_msg']:.1f} | {r['scan_us_per_msg']:.1f} |")
            md.append('')
    cg = latest.get('callgrind')
    if cg:
        md += ['## Instructions per message (valgrind --tool=callgrind)', '',
               f'Measured {machine_line(cg)}.', '',
               f"**{cg['instructions_per_message']:,.0f} instructions per "
               f"message** ({cg['messages']} scans of the corpus, after a "
               f"warm-up pass).  {cg['jit_note']}.", '']
        if cg.get('stages'):
            md += ['| where (inclusive) | instructions/msg | share |', '|---|---:|---:|']
            for st in cg['stages']:
                md.append(f"| {st['label'].replace('  ', '&nbsp;&nbsp;')} | "
                          f"{st['per_message']:,.0f} | {st['share']:.0%} |")
            md.append('')
        md += ['Costliest functions (self):', '', '```']
        md += cg['self'][:20]
        md += ['```', '']
    return '\n'.join(md) + '\n'


def main():
    work, results, stamp, note = sys.argv[1:5]
    machine = read_json(os.path.join(work, 'machine.json')) or {}
    common = {'date': stamp, 'machine': machine,
              'loadavg_before': read_text(os.path.join(work, 'load_before')),
              'loadavg_after': read_text(os.path.join(work, 'load_after')),
              'note': note}
    made = {}
    for name, fn in (('load', load_section), ('engine', engine_section),
                     ('scaling', scaling_section),
                     ('callgrind', callgrind_section)):
        sec = fn(work)
        if sec is None:
            continue
        sec.update(common)
        made[name] = sec
        with open(os.path.join(results, name + '.json'), 'w') as f:
            json.dump(sec, f, indent=1)
    latest = {}
    for name in ('load', 'engine', 'scaling', 'callgrind'):
        sec = read_json(os.path.join(results, name + '.json'))
        if sec is not None:
            latest[name] = sec
    latest['targets'] = [{'target': a, 'measured': b, 'met': c}
                         for a, b, c in targets(latest)]
    with open(os.path.join(results, 'latest.json'), 'w') as f:
        json.dump(latest, f, indent=1)
    with open(os.path.join(results, 'latest.md'), 'w') as f:
        f.write(markdown(latest))
    if not made:
        sys.stdout.write(markdown(latest))
        return
    with open(os.path.join(results, 'history.jsonl'), 'a') as f:
        slim = {k: {kk: vv for kk, vv in v.items() if kk not in ('runs', 'text', 'self', 'inclusive')}
                for k, v in made.items()}
        f.write(json.dumps(slim) + '\n')
    sys.stdout.write(markdown({k: v for k, v in latest.items()}))


if __name__ == '__main__':
    main()
