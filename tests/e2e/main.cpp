#define BOOST_TEST_MODULE secrun_e2e
#include <boost/test/unit_test.hpp>
