// E-mail alerts over SMTP (nodemailer): one mail per incident and one on its recovery
// (incidents.ts), to the recipients of the stored settings, at most `maxPerHour` in any hour
// (the mails beyond are counted and the next one sent says how many were held back). A mail
// waits in a small queue (MAX_QUEUE, oldest dropped beyond it) while the relay cannot be
// reached and is tried again with backoff (5 s doubling to 5 min), so an MTA restart delays
// alerts without losing them; the queue is memory only (an appliance restart forgets it).
// The password is read from the keystore when a mail is sent and never logged.
import nodemailer from 'nodemailer';
import { Counter, Gauge } from 'prom-client';
import { ALERT_MAIL_ID, type StoredAlertMail } from '../../config/model.js';
import { openSecret } from '../../config/stored-secret.js';
import type { Integration, IntegrationContext, IntegrationFactory } from '../integration.js';
import { Incidents, type AlertMessage } from './incidents.js';

const MAX_QUEUE = 100;
const RETRY_FIRST_MS = 5000;
const RETRY_MAX_MS = 300_000;
const HOUR_MS = 3_600_000;

/** The nodemailer transport options of the settings. */
export function transportOptions(m: StoredAlertMail, password: string | null): Parameters<typeof nodemailer.createTransport>[0] {
  return {
    host: m.host,
    port: m.port,
    secure: m.security === 'tls',
    requireTLS: m.security === 'starttls',
    ignoreTLS: m.security === 'none',
    tls: { ca: m.caPem ?? undefined, minVersion: 'TLSv1.2' },
    auth: m.username !== null && password !== null ? { user: m.username, pass: password } : undefined,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  };
}

async function start(ctx: IntegrationContext): Promise<Integration> {
  const sent = new Counter({ name: 'lbappliance_alert_mail_sent_total', help: 'Alert mails accepted by the SMTP relay.', registers: [ctx.registry] });
  const failures = new Counter({ name: 'lbappliance_alert_mail_failures_total', help: 'Attempts to hand an alert mail to the relay that failed (each is retried).', registers: [ctx.registry] });
  const limited = new Counter({ name: 'lbappliance_alert_mail_rate_limited_total', help: 'Alert mails not sent because of maxPerHour.', registers: [ctx.registry] });
  const dropped = new Counter({ name: 'lbappliance_alert_mail_dropped_total', help: 'Alert mails dropped: the queue was full or the alerts were turned off.', registers: [ctx.registry] });
  const queue: AlertMessage[] = [];
  new Gauge({ name: 'lbappliance_alert_mail_queue_length', help: 'Alert mails waiting for the relay.', registers: [ctx.registry], collect() { this.set(queue.length); } });

  const incidents = new Incidents();
  const sentAt: number[] = [];
  let heldBack = 0;
  let sending = false;
  let retryMs = RETRY_FIRST_MS;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const settings = (): StoredAlertMail | null => ctx.store.current.config.alertMail?.[ALERT_MAIL_ID] ?? null;

  const pump = async (): Promise<void> => {
    if (sending || closed || timer) return;
    sending = true;
    try {
      while (queue.length > 0 && !closed) {
        const m = settings();
        if (!m) {
          dropped.inc(queue.length);
          queue.length = 0;
          break;
        }
        const mail = queue[0] as AlertMessage;
        try {
          const password = m.passwordRef ? openSecret(await ctx.store.keystore.get(m.passwordRef)) : null;
          const transport = nodemailer.createTransport(transportOptions(m, password));
          try {
            await transport.sendMail({ from: m.from, to: m.to, subject: mail.subject, text: mail.text, headers: { 'X-Lbappliance-Node': ctx.nodeName } });
          } finally {
            transport.close();
          }
          queue.shift();
          sent.inc();
          retryMs = RETRY_FIRST_MS;
        } catch (err) {
          failures.inc();
          // nodemailer's messages carry the server's reply, never the password.
          ctx.logger.warn({ err: (err as Error).message, retryInMs: retryMs, queued: queue.length }, 'could not hand an alert mail to the SMTP relay; retrying');
          timer = setTimeout(() => {
            timer = null;
            void pump();
          }, retryMs);
          timer.unref();
          retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
          break;
        }
      }
    } finally {
      sending = false;
    }
  };

  const unsubscribe = ctx.events.subscribe((event) => {
    const m = settings();
    if (!m || event.kind === 'audit') return;
    const mail = incidents.mailFor(event, ctx.nodeName, m.events);
    if (!mail) return;
    const now = Date.now();
    while (sentAt.length > 0 && (sentAt[0] as number) <= now - HOUR_MS) sentAt.shift();
    if (sentAt.length >= m.maxPerHour) {
      heldBack++;
      limited.inc();
      ctx.logger.warn({ subject: mail.subject, maxPerHour: m.maxPerHour }, 'alert mail held back by the rate limit');
      return;
    }
    sentAt.push(now);
    if (heldBack > 0) {
      mail.text += `\n${heldBack} earlier alert(s) were held back by the rate limit (maxPerHour ${m.maxPerHour}); see the syslog or the appliance's log.\n`;
      heldBack = 0;
    }
    queue.push(mail);
    if (queue.length > MAX_QUEUE) {
      queue.shift();
      dropped.inc();
    }
    void pump();
  });

  return {
    name: 'alert-mail',
    async close() {
      closed = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
    },
  };
}

/** The e-mail alert integration's factory (registered in ../registry.ts). */
export const alertMailIntegration: IntegrationFactory = { name: 'alert-mail', start };
