exports = function (...args) {
  return args;
};
