// Built by tests/dist_test.sh with GCC's win32 thread model (no std::future): this call
// must fail to compile with superoffice.hpp's one error naming the posix thread model.
#include "superoffice.hpp"

int main() {
    superoffice::Client client(superoffice::Options("http://127.0.0.1:1/Cust12345").ticket("7T:dGVzdA=="));
    auto sent = client.send_cc_password_email_async(670);
    sent.get();
}
