// The API's JSON body parser (application/json and application/merge-patch+json): fastify's
// own parser (secure-json-parse: prototype poisoning refused) followed by the shape check of
// ../config/json-shape.ts, so a body nested deeper than MAX_JSON_DEPTH or holding a lone UTF-16
// surrogate is refused with 400 LB_VALIDATION naming the field before any handler, validator
// or recursive walk sees it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkJsonShape } from '../config/json-shape.js';

type Done = (err: Error | null, body?: unknown) => void;
type BodyParser = (req: FastifyRequest, body: string | Buffer, done: Done) => void;

/** Wraps fastify's default JSON parser with the shape check. */
export function checkedJsonParser(app: FastifyInstance): BodyParser {
  const parse = app.getDefaultJsonParser('error', 'error') as unknown as BodyParser;
  return (req, body, done) => {
    parse(req, body, (err, value) => {
      if (err) return done(err);
      try {
        checkJsonShape(value);
      } catch (shapeErr) {
        return done(shapeErr as Error);
      }
      done(null, value);
    });
  };
}
