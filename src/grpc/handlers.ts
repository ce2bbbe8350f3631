// gRPC handlers as thin adapters: a message → the operation's input (and the HTTPS-shaped
// request its schemas check), the operation's result → a message. No logic of their own.
import type {
  ServerUnaryCall,
  ServerWritableStream,
  handleServerStreamingCall,
  handleUnaryCall,
  sendUnaryData,
} from '@grpc/grpc-js';
import type { ApiCore } from '../http/api/core.ts';
import type { Operation, OperationContext } from '../http/api/operations/index.ts';
import { type CallRequest, GrpcCall } from './call.ts';

export interface Adapter<M, I, O, R> {
  /** The call's names and body, as the HTTPS route would have them. */
  request(message: M): CallRequest;
  input(message: M): I;
  reply(result: O): R;
}

export function unary<M extends { namespace?: string }, I, O, R>(
  core: ApiCore,
  op: Operation<I, O>,
  adapter: Adapter<M, I, O, R>,
): handleUnaryCall<M, R> {
  return (call: ServerUnaryCall<M, R>, callback: sendUnaryData<R>) => {
    const grpcCall = new GrpcCall(core, call, op.action, call.request.namespace);
    void (async () => {
      try {
        const ctx = await grpcCall.admit(op, adapter.request(call.request));
        const reply = adapter.reply(await op.run(adapter.input(call.request), ctx));
        await grpcCall.succeeded();
        callback(null, reply);
      } catch (err) {
        callback(await grpcCall.failed(err));
      }
    })();
  };
}

/** Item by item; with audit.failClosed the items wait for the call's audit line. */
export function serverStream<M extends { namespace?: string }, I, T, R>(
  core: ApiCore,
  op: Operation<I, unknown>,
  run: (input: I, ctx: OperationContext, onItem: (item: T) => void) => Promise<unknown>,
  adapter: Omit<Adapter<M, I, T, R>, 'reply'> & { item(item: T): R },
): handleServerStreamingCall<M, R> {
  return (call: ServerWritableStream<M, R>) => {
    const grpcCall = new GrpcCall(core, call, op.action, call.request.namespace);
    void (async () => {
      try {
        const ctx = await grpcCall.admit(op, adapter.request(call.request));
        const held: R[] = [];
        const send = core.audit.failClosed ? (r: R) => void held.push(r) : (r: R) => void call.write(r);
        await run(adapter.input(call.request), ctx, (item) => send(adapter.item(item)));
        await grpcCall.succeeded();
        for (const r of held) call.write(r);
        call.end();
      } catch (err) {
        call.emit('error', await grpcCall.failed(err));
      }
    })();
  };
}
