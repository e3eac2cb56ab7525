using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace SuperOffice.Ffi
{
    internal static partial class NativeMethods
    {
        /// <summary><c>so_completion_callback</c>: called once per operation, on a library thread.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void CompletionCallback(IntPtr userdata, IntPtr operation, SuperOfficeResult code);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_max_in_flight(OptionsHandle options, uint n);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_send_cc_password_email_async(ClientHandle client, int personId,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string from,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string to,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string subject,
            CompletionCallback callback, IntPtr userdata, out IntPtr operation);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_operation_cancel(IntPtr operation);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int so_operation_http_status(IntPtr operation);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr so_operation_error_message(IntPtr operation);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr so_operation_error_type(IntPtr operation);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int so_operation_delivery(IntPtr operation);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void so_operation_free(IntPtr operation);
    }

    /// <summary>
    /// A cancelled asynchronous send (<see cref="SuperOfficeResult.Cancelled"/>), with whether
    /// its e-mail may have gone out (<see cref="Delivery"/>): <see cref="SuperOfficeDelivery.NotSent"/>
    /// when it was cancelled before it started, <see cref="SuperOfficeDelivery.Unknown"/> when it
    /// was on the network. A send whose own token was cancelled ends as a cancelled task
    /// (<see cref="Task.IsCanceled"/>) whose await throws this exception, carrying that token; one
    /// ended by <see cref="SuperOfficeClient.Dispose"/> fails with it.
    /// </summary>
    public class SuperOfficeOperationCanceledException : OperationCanceledException, ISuperOfficeError
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeOperationCanceledException(string message)
            : this(message, 0, null)
        {
        }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeOperationCanceledException(string message, Exception inner)
            : base(message, inner)
        {
        }

        /// <summary>Creates the exception with what the operation reported.</summary>
        public SuperOfficeOperationCanceledException(string message, int httpStatus, string errorType = null)
            : base(message)
        {
            HttpStatus = httpStatus;
            ErrorType = string.IsNullOrEmpty(errorType) ? null : errorType;
        }

        /// <summary>Creates the exception of a send cancelled by <paramref name="token"/>.</summary>
        public SuperOfficeOperationCanceledException(string message, CancellationToken token, SuperOfficeDelivery delivery)
            : base(message, token)
        {
            Delivery = delivery;
        }

        /// <summary>Whether the server may have the request: <see cref="SuperOfficeDelivery.NotSent"/> when the
        /// send was cancelled before any byte was written, <see cref="SuperOfficeDelivery.Unknown"/> when later.</summary>
        public SuperOfficeDelivery Delivery { get; internal set; }

        /// <inheritdoc/>
        public bool MayHaveBeenSent
        {
            get { return Deliveries.MayHaveBeenSent(Delivery, HttpStatus); }
        }

        /// <summary>Always <see cref="SuperOfficeResult.Cancelled"/>.</summary>
        public SuperOfficeResult Code
        {
            get { return SuperOfficeResult.Cancelled; }
        }

        /// <summary>0: a cancelled send has no answer.</summary>
        public int HttpStatus { get; private set; }

        /// <summary><c>null</c>.</summary>
        public string ErrorType { get; private set; }
    }

    public sealed partial class SuperOfficeClient
    {
        /// <summary>The one callback for every operation of every client, alive for the process.</summary>
        private static readonly NativeMethods.CompletionCallback Completion = OnCompletion;

        /// <summary>
        /// Sends the Customer Centre password e-mail of <paramref name="personId"/> without
        /// holding a thread: the library sends on its own worker threads (at most
        /// <see cref="SuperOfficeClientOptions.MaxInFlight"/> at once for this client, more wait
        /// in order) and completes the task from its callback.
        /// </summary>
        /// <remarks>
        /// <paramref name="cancellationToken"/> cancels the send itself: one not sent yet is
        /// never sent; one on the network has its connection closed (the server may already
        /// have received it). The task then ends as cancelled at once.
        /// <see cref="Dispose"/> cancels sends still outstanding; they end with
        /// <see cref="SuperOfficeOperationCanceledException"/>.
        /// </remarks>
        /// <exception cref="ObjectDisposedException">The client was disposed (thrown at once).</exception>
        /// <exception cref="SuperOfficeArgumentException"><paramref name="personId"/> is 0 or negative (the library's rule), or another value was refused.</exception>
        /// <exception cref="SuperOfficeException">The send failed (in the task); the subclass says how.</exception>
        public Task SendCustomerCentrePasswordEmailAsync(int personId, string from, string to, string subject,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            ThrowIfDisposed();
            CheckSendArguments(from, to, subject);
            return StartSend(personId, from, to, subject, cancellationToken);
        }

        /// <summary>The library's range for a batch's concurrency is 1 to this
        /// (<c>so_send_cc_password_email_batch</c>); <see cref="SendManyAsync"/> applies it too.</summary>
        public const int MaxBatchConcurrency = 64;

        /// <summary>
        /// Sends many e-mails concurrently through the asynchronous send, at most
        /// <paramref name="maxConcurrency"/> started at once (and at most
        /// <see cref="SuperOfficeClientOptions.MaxInFlight"/> on the network). No thread waits
        /// on the network. A failed item does not stop the others; its outcome is in its
        /// <see cref="SendResult"/>. <paramref name="progress"/> is reported as items finish.
        /// <paramref name="cancellationToken"/> cancels every item not finished yet, and the
        /// task ends as cancelled.
        /// </summary>
        /// <returns>One result per item, in the items' order.</returns>
        /// <exception cref="ObjectDisposedException">The client was disposed (thrown at once).</exception>
        /// <exception cref="ArgumentNullException"><paramref name="items"/> or one of them is <c>null</c> (thrown at once).</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxConcurrency"/> is outside 1 to 64, the library's range for a batch (thrown at once).</exception>
        public Task<IReadOnlyList<SendResult>> SendManyAsync(IReadOnlyList<SendItem> items, int maxConcurrency = 8,
            IProgress<BatchProgress> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            ThrowIfDisposed();
            CheckBatchArguments(items, maxConcurrency);
            if (maxConcurrency < 1 || maxConcurrency > MaxBatchConcurrency)
            {
                // This method's own throttle (it starts asynchronous sends, not the library's
                // batch), held to the library's rule for a batch's concurrency.
                throw new ArgumentOutOfRangeException("maxConcurrency", maxConcurrency,
                    "max_concurrency " + maxConcurrency + " is out of range (1 to " + MaxBatchConcurrency + ")");
            }
            return SendManyCore(items, maxConcurrency, progress, cancellationToken);
        }

        private async Task<IReadOnlyList<SendResult>> SendManyCore(IReadOnlyList<SendItem> items, int maxConcurrency,
            IProgress<BatchProgress> progress, CancellationToken cancellationToken)
        {
            int count = items.Count;
            var results = new SendResult[count];
            var gate = new SemaphoreSlim(maxConcurrency);
            long done = 0;
            var tasks = new Task[count];
            for (int i = 0; i < count; i++)
            {
                tasks[i] = SendItemAsync(i, items[i], results, gate, cancellationToken, () =>
                {
                    long now = Interlocked.Increment(ref done);
                    if (progress != null)
                    {
                        try
                        {
                            progress.Report(new BatchProgress(now, count));
                        }
                        catch (Exception)
                        {
                            // A progress handler's exception does not stop the batch.
                        }
                    }
                });
            }
            await Task.WhenAll(tasks).ConfigureAwait(false);
            return results;
        }

        private async Task SendItemAsync(int index, SendItem item, SendResult[] results, SemaphoreSlim gate,
            CancellationToken cancellationToken, Action finished)
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                Task<int> send;
                try
                {
                    // The library checks the item (a bad person id is this item's result).
                    send = StartSend(item.PersonId, item.From, item.To, item.Subject, cancellationToken);
                }
                catch (Exception e) when (e is ISuperOfficeError)
                {
                    var error = (ISuperOfficeError)e;
                    results[index] = new SendResult(index, error.Code, error.HttpStatus, e.Message, error.ErrorType, error.Delivery);
                    finished();
                    return;
                }
                try
                {
                    int status = await send.ConfigureAwait(false);
                    results[index] = new SendResult(index, SuperOfficeResult.Ok, status, null, null, SuperOfficeDelivery.Answered);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // The batch's own token: the batch ends as cancelled.
                    throw;
                }
                catch (Exception e) when (e is ISuperOfficeError)
                {
                    // Every failure the library reports, whatever its .NET family (argument,
                    // timeout, cancelled by Dispose, the rest).
                    var error = (ISuperOfficeError)e;
                    results[index] = new SendResult(index, error.Code, error.HttpStatus, e.Message, error.ErrorType, error.Delivery);
                }
                finished();
            }
            finally
            {
                gate.Release();
            }
        }

        /// <summary>
        /// One asynchronous send awaiting its callback. <see cref="Gate"/> orders the
        /// callback's <c>so_operation_free</c> and a token's <c>so_operation_cancel</c>, so that
        /// a cancellation never reaches a freed operation.
        /// </summary>
        private sealed class PendingSend
        {
            internal readonly TaskCompletionSource<int> Completion =
                new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

            internal readonly object Gate = new object();
            internal readonly CancellationToken Token;
            internal IntPtr Operation;
            internal bool Freed;
            internal CancellationTokenRegistration Registration;
            /// <summary>The send's delivery: read when the token cancels it, or when it ends.</summary>
            internal SuperOfficeDelivery Delivery = SuperOfficeDelivery.Unknown;
            /// <summary>The library's message for a send cancelled while queued ("" otherwise).</summary>
            internal string CancelMessage;
            /// <summary>Whether <see cref="Cancel"/> read the delivery (else the completion does).</summary>
            internal bool CancelRead;

            internal PendingSend(CancellationToken token)
            {
                Token = token;
            }

            /// <summary>The token's registration: cancel the native send, note its delivery (a queued
            /// send ends within the cancel: not sent; one on the network ends later: unknown), end
            /// the task now.</summary>
            internal void Cancel()
            {
                lock (Gate)
                {
                    if (!Freed && Operation != IntPtr.Zero)
                    {
                        NativeMethods.so_operation_cancel(Operation);
                        SuperOfficeDelivery now = Deliveries.FromNative(NativeMethods.so_operation_delivery(Operation));
                        Delivery = now == SuperOfficeDelivery.None ? SuperOfficeDelivery.Unknown : now;
                        CancelMessage = Utf8.FromNative(NativeMethods.so_operation_error_message(Operation));
                        CancelRead = true;
                    }
                }
                Completion.TrySetCanceled(Token);
            }
        }

        /// <summary>Starts one native send; throws at once when the library refuses its arguments.</summary>
        private Task<int> StartSend(int personId, string from, string to, string subject, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return Cancelled(new SuperOfficeOperationCanceledException(
                    "the send was cancelled before it started; it was not sent", cancellationToken, SuperOfficeDelivery.NotSent));
            }
            var pending = new PendingSend(cancellationToken);
            GCHandle state = GCHandle.Alloc(pending);
            SuperOfficeResult result;
            IntPtr operation;
            try
            {
                // The operation is written to pending.Operation under the gate, before the
                // callback (which takes the gate to free it) can free it.
                lock (pending.Gate)
                {
                    result = NativeMethods.so_send_cc_password_email_async(_handle, personId, from, to, subject,
                        Completion, GCHandle.ToIntPtr(state), out operation);
                    pending.Operation = operation;
                }
            }
            catch
            {
                state.Free();
                throw;
            }
            if (result != SuperOfficeResult.Ok)
            {
                // Read this thread's last error now; no callback comes.
                Exception error = NativeMethods.LastError(result);
                state.Free();
                throw error;
            }
            if (cancellationToken.CanBeCanceled)
            {
                pending.Registration = cancellationToken.Register(p => ((PendingSend)p).Cancel(), pending);
                return WithCancelledDelivery(pending);
            }
            return pending.Completion.Task;
        }

        /// <summary>A cancelled task (an async method that throws an <see cref="OperationCanceledException"/>
        /// ends as cancelled, and its await throws that very exception).</summary>
        private static async Task<int> Cancelled(SuperOfficeOperationCanceledException e)
        {
            await Task.FromResult(0).ConfigureAwait(false);
            throw e;
        }

        /// <summary>The send's task, whose cancellation by its token throws a
        /// <see cref="SuperOfficeOperationCanceledException"/> carrying the delivery.</summary>
        private static async Task<int> WithCancelledDelivery(PendingSend pending)
        {
            try
            {
                return await pending.Completion.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!(e is SuperOfficeOperationCanceledException))
            {
                string message = !string.IsNullOrEmpty(pending.CancelMessage)
                    ? pending.CancelMessage
                    : pending.Delivery == SuperOfficeDelivery.NotSent
                        ? "the send was cancelled before it started; it was not sent"
                        : "the send was cancelled while it was on the network; it may have been processed";
                throw new SuperOfficeOperationCanceledException(message, pending.Token, pending.Delivery);
            }
        }

        /// <summary>The native callback: read the outcome, free the operation, complete the task.</summary>
        private static void OnCompletion(IntPtr userdata, IntPtr operation, SuperOfficeResult code)
        {
            try
            {
                GCHandle state = GCHandle.FromIntPtr(userdata);
                var pending = (PendingSend)state.Target;
                int status = NativeMethods.so_operation_http_status(operation);
                string message = Utf8.FromNative(NativeMethods.so_operation_error_message(operation));
                string errorType = Utf8.FromNative(NativeMethods.so_operation_error_type(operation));
                SuperOfficeDelivery delivery = Deliveries.FromNative(NativeMethods.so_operation_delivery(operation));
                lock (pending.Gate)
                {
                    pending.Freed = true;
                    if (!pending.CancelRead)
                    {
                        pending.Delivery = delivery;
                    }
                    NativeMethods.so_operation_free(operation);
                }
                state.Free();
                if (code == SuperOfficeResult.Ok)
                {
                    pending.Completion.TrySetResult(status);
                }
                else if (code == SuperOfficeResult.Cancelled && pending.Token.IsCancellationRequested)
                {
                    pending.Completion.TrySetCanceled(pending.Token);
                }
                else if (code == SuperOfficeResult.Cancelled)
                {
                    pending.Completion.TrySetException(new SuperOfficeOperationCanceledException(message, status, errorType)
                    {
                        Delivery = delivery,
                    });
                }
                else
                {
                    pending.Completion.TrySetException(SuperOfficeException.Create(code, status, message, errorType, delivery));
                }
                pending.Registration.Dispose();
            }
            catch (Exception)
            {
                // An exception must not unwind into native code.
            }
        }
    }
}
