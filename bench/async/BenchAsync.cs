// N sends from C# Tasks: SendCustomerCentrePasswordEmailAsync, all started at once, at most
// IN_FLIGHT on the network (MaxInFlight), awaited with Task.WhenAll.
// Usage: mono BenchAsync.exe BASE_URL N IN_FLIGHT
// Prints: csharp <in-flight> <n> <seconds> <failures> <peak threads> <peak RSS KiB> <CPU s>
// (CPU: user + system of the process over the sends)
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SuperOffice.Ffi;

internal static class BenchAsync
{
    private static long StatusField(string name)
    {
        foreach (string line in File.ReadAllLines("/proc/self/status"))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                return long.Parse(line.Substring(name.Length).Trim().Split(' ')[0]);
            }
        }
        return -1;
    }

    private static int Main(string[] args)
    {
        string baseUrl = args[0];
        int n = int.Parse(args[1]);
        int inFlight = int.Parse(args[2]);
        var options = new SuperOfficeClientOptions
        {
            BaseUrl = baseUrl, Ticket = "7T:dGVzdA==", Proxy = "", MaxInFlight = inFlight,
            Timeout = TimeSpan.FromSeconds(120),
        };
        using (var client = new SuperOfficeClient(options))
        {
            Process self = Process.GetCurrentProcess();
            TimeSpan cpuStarted = self.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            Task[] tasks = new Task[n];
            for (int i = 0; i < n; i++)
            {
                tasks[i] = client.SendCustomerCentrePasswordEmailAsync(670, "support@example.com", "kari@example.com", "Your password");
            }
            long peak = 0;
            Task all = Task.WhenAll(tasks);
            while (!all.Wait(50))
            {
                peak = Math.Max(peak, StatusField("Threads:"));
            }
            double took = watch.Elapsed.TotalSeconds;
            self.Refresh();
            double cpu = (self.TotalProcessorTime - cpuStarted).TotalSeconds;
            int failures = tasks.Count(t => t.Status != TaskStatus.RanToCompletion);
            Console.WriteLine("csharp " + inFlight + " " + n + " " + took.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)
                + " " + failures + " " + peak + " " + StatusField("VmHWM:")
                + " " + cpu.ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
        }
        return 0;
    }
}
