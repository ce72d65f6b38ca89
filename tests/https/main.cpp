#define BOOST_TEST_MODULE secrun_https
#include <boost/test/unit_test.hpp>
