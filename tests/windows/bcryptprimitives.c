/*
 * Test-only stand-in for bcryptprimitives.dll, which Wine 8.0 lacks. Rust's standard
 * library (1.78 and later) imports ProcessPrng from it for its random numbers (HashMap
 * seeds); without this DLL beside the test program, loading superoffice.dll fails with
 * error 126. ProcessPrng fills the buffer from RtlGenRandom (advapi32's SystemFunction036).
 * Never shipped: real Windows 10 and later have bcryptprimitives.dll.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
