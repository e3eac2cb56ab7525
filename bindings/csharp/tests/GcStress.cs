// Sends under garbage-collector pressure: one thread allocates all the time and another
// forces collections, while sends wait on slow answers. Mono stops native threads for
// its collections; with MONO_THREADS_SUSPEND=preemptive it does so with signals, which
// interrupt the library's system calls. Nothing may hang, and every timeout must hold.
//
//   SO_STUB_URL=http://127.0.0.1:PORT mono GcStress.exe
// Exit code 0 when every check held; bindings/csharp/run-tests.sh runs it 10 times.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using SuperOffice.Ffi;

namespace SuperOffice.Ffi.Tests
{
    internal static class GcStress
    {
        private const int Senders = 4;

        private static int Main()
        {
            string stub = (Environment.GetEnvironmentVariable("SO_STUB_URL") ?? "").TrimEnd('/');
            if (stub.Length == 0)
            {
                Console.Error.WriteLine("FAIL: SO_STUB_URL is not set");
                return 1;
            }
            string run = Guid.NewGuid().ToString("N").Substring(0, 10);
            bool stop = false;
            long allocated = 0, collections = 0;
            var allocator = new Thread(() =>
            {
                var keep = new List<byte[]>();
                while (!Volatile.Read(ref stop))
                {
                    keep.Add(new byte[16 * 1024]);
                    allocated++;
                    if (keep.Count > 512) keep.Clear();
                }
            });
            var collector = new Thread(() =>
            {
                while (!Volatile.Read(ref stop))
                {
                    GC.Collect();
                    collections++;
                    Thread.Sleep(5);
                }
            });
            allocator.Start();
            collector.Start();

            int failures = 0;
            var threads = new List<Thread>();
            var lines = new List<string>();
            for (int i = 0; i < Senders; i++)
            {
                int n = i;
                // Half wait for an answer that comes after 3 s with a total timeout of 1 s;
                // half have no timeout and get their answer after 0.8 s.
                bool timesOut = n % 2 == 0;
                var t = new Thread(() =>
                {
                    string tenant = stub + "/gc-" + run + "-" + n + (timesOut ? "/delay_ms=3000" : "/delay_ms=800") + "/Cust12345";
                    var options = new SuperOfficeClientOptions
                    {
                        BaseUrl = tenant,
                        Ticket = "7T:dGVzdA==",
                        Timeout = timesOut ? TimeSpan.FromSeconds(1) : System.Threading.Timeout.InfiniteTimeSpan,
                        ConnectTimeout = System.Threading.Timeout.InfiniteTimeSpan,
                    };
                    using (var client = new SuperOfficeClient(options))
                    {
                        for (int k = 0; k < 2; k++)
                        {
                            var watch = Stopwatch.StartNew();
                            string outcome;
                            bool ok;
                            try
                            {
                                client.SendCustomerCentrePasswordEmail(670, null, null, null);
                                outcome = "sent";
                                ok = !timesOut;
                            }
                            catch (Exception e)
                            {
                                bool isTimeout = e is TimeoutException || e.GetType().Name == "SuperOfficeTimeoutException";
                                outcome = e.GetType().Name + ": " + e.Message;
                                // The 1 s limit holds: not before it, and not much after it.
                                ok = timesOut && isTimeout && watch.ElapsedMilliseconds >= 950 && watch.ElapsedMilliseconds <= 2500;
                            }
                            lock (lines)
                            {
                                lines.Add((ok ? "ok   " : "FAIL ") + (timesOut ? "1 s timeout, 3 s answer: " : "no timeout, 0.8 s answer: ")
                                    + outcome + " after " + watch.ElapsedMilliseconds + " ms");
                                if (!ok) failures++;
                            }
                        }
                    }
                });
                threads.Add(t);
                t.Start();
            }
            foreach (Thread t in threads) t.Join();
            Volatile.Write(ref stop, true);
            allocator.Join();
            collector.Join();
            foreach (string line in lines) Console.WriteLine("    " + line);
            Console.WriteLine("    GC pressure: " + allocated + " allocations of 16 KiB, " + collections + " forced collections ("
                + (Environment.GetEnvironmentVariable("MONO_THREADS_SUSPEND") ?? "default") + " suspend)");
            Console.WriteLine(failures == 0 ? "gc stress: all held" : "gc stress: " + failures + " failed");
            return failures == 0 ? 0 : 1;
        }
    }
}
